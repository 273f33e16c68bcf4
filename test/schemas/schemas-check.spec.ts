import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { SCHEMAS_DIR } from '../../schemas/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs `npm run schemas:check`'s script on a folder, as CI would. */
function schemasCheck(dir?: string): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/schemas-check.ts'), ...(dir ? [dir] : [])], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('schemas:check', function () {
  this.timeout(30_000);
  let dir: string;
  let mentionV1: { fields: Record<string, unknown>[] } & Record<string, unknown>;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sp-schemas-check-'));
    cpSync(SCHEMAS_DIR, dir, { recursive: true, filter: (src) => !src.endsWith('.ts') });
    mentionV1 = JSON.parse(readFileSync(join(dir, 'mention', 'v1.avsc'), 'utf8')) as typeof mentionV1;
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('passes on the committed schemas, one line per contract', () => {
    const { status, output } = schemasCheck();
    expect(status, output).to.equal(0);
    for (const folder of ['dead-letter', 'inference-event', 'label', 'mention']) expect(output).to.include(`${folder} (`);
  });

  it('passes a compatible v2: a field added with a default', () => {
    const v2 = { ...mentionV1, fields: [...mentionV1.fields, { name: 'severity', type: 'int', default: 0, doc: 'added in v2' }] };
    writeFileSync(join(dir, 'mention', 'v2.avsc'), JSON.stringify(v2));
    const { status, output } = schemasCheck(dir);
    expect(status, output).to.equal(0);
    expect(output).to.include('mention (dev.signalpath.Mention): v2 reads v1 — ok');
  });

  it('fails an incompatible v2 (a field added without a default), naming contract, versions and reason', () => {
    const v2 = { ...mentionV1, fields: [...mentionV1.fields, { name: 'severity', type: 'int', doc: 'added in v2, no default' }] };
    writeFileSync(join(dir, 'mention', 'v2.avsc'), JSON.stringify(v2));
    const { status, output } = schemasCheck(dir);
    expect(status, output).to.equal(1);
    expect(output).to.include('mention (dev.signalpath.Mention): v2 cannot read data written by v1 — not backward compatible');
    expect(output).to.include('severity');
  });

  it('fails an incompatible type change (string → int)', () => {
    const fields = mentionV1.fields.map((f) => (f.name === 'detector' ? { ...f, type: 'int' } : f));
    writeFileSync(join(dir, 'mention', 'v2.avsc'), JSON.stringify({ ...mentionV1, fields }));
    const { status, output } = schemasCheck(dir);
    expect(status, output).to.equal(1);
    expect(output).to.include('v2 cannot read data written by v1');
  });

  it('fails a schema file that does not parse, naming the file', () => {
    writeFileSync(join(dir, 'label', 'v2.avsc'), '{ "type": "record", ');
    const { status, output } = schemasCheck(dir);
    expect(status, output).to.equal(1);
    expect(output).to.include(join('label', 'v2.avsc'));
  });
});
