/**
 * The configuration reference cannot drift: docs/configuration.md is what scripts/config-docs.ts
 * generates from the zod schemas, `signalpath run --help` names every flag with its variable, and the
 * "accepts" column describes what the schemas really enforce.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import fc from 'fast-check';
import { z } from 'zod';
import { SETTINGS } from '../../runtime/config.js';
import { MODEL_MONITOR_SETTINGS } from '../../topologies/model-monitor/config.js';
import { acceptedValues, CONFIGURATION_DOC, renderConfigurationDoc } from '../../scripts/config-docs.js';
import { runCli } from '../support/kafka-fixtures.js';

describe('configuration reference', () => {
  it('docs/configuration.md is what `npm run docs:config` generates (run it after changing a setting)', () => {
    expect(readFileSync(CONFIGURATION_DOC, 'utf8')).to.equal(renderConfigurationDoc());
  });

  it('lists every run setting and every model-monitor variable with its default', () => {
    const doc = renderConfigurationDoc();
    for (const setting of Object.values(SETTINGS)) {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${setting.flag}\` | \`${setting.env}\` |`));
      expect(row, setting.flag).to.be.a('string');
      if ('default' in setting) expect(row).to.include(`\`${String(setting.default)}\``);
    }
    for (const setting of Object.values(MODEL_MONITOR_SETTINGS)) expect(doc).to.include(`| \`${setting.env}\` |`);
  });

  it('`signalpath run --help` shows every setting\'s flag and environment variable', async function () {
    this.timeout(60_000);
    const { exited } = runCli(['run', '--help']);
    const { code, stdout: raw } = await exited;
    expect(code).to.equal(0);
    const stdout = raw.replace(/\s+/g, ' '); // commander wraps long help lines
    for (const setting of Object.values(SETTINGS)) {
      expect(stdout, setting.flag).to.include(`${setting.flag} `);
      expect(stdout, setting.env).to.include(`[env ${setting.env}]`);
    }
  });

  it('the documented range of every numeric setting is exactly what its schema accepts', () => {
    const numeric = [...Object.values(SETTINGS), ...Object.values(MODEL_MONITOR_SETTINGS)]
      .map((setting) => ({ name: setting.env, schema: setting.schema as z.ZodType, json: z.toJSONSchema(setting.schema as z.ZodType, { unrepresentable: 'any', io: 'input' }) as { type?: string; minimum?: number; maximum?: number } }))
      .filter((s) => s.json.type === 'integer' && s.json.minimum !== undefined && s.json.maximum !== undefined);
    expect(numeric.length).to.be.greaterThan(10);
    for (const { name, schema, json } of numeric) {
      const [min, max] = [json.minimum!, json.maximum!];
      expect(acceptedValues(schema), name).to.equal(`whole number ≥ ${min} and ≤ ${max}`);
      fc.assert(
        fc.property(fc.integer({ min, max }), (value) => schema.safeParse(String(value)).success),
        { numRuns: 50 },
      );
      expect(schema.safeParse(String(min - 1)).success, `${name} below its minimum`).to.equal(false);
      expect(schema.safeParse(String(max + 1)).success, `${name} above its maximum`).to.equal(false);
    }
  });
});
