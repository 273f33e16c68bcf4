/**
 * The public API's reference cannot drift: docs/api.md is what scripts/api-docs.ts generates from the
 * entry points of package.json's `exports` map, and those entry points hold what the templates and
 * the README promise a project can import.
 */
import { existsSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { API_DOC, apiEntryPoints, renderApiDoc } from '../../scripts/api-docs.js';

describe('API reference', function () {
  this.timeout(120_000);
  let doc: string;
  before(() => {
    doc = renderApiDoc();
  });

  it('docs/api.md is what `npm run docs:api` generates (run it after changing an export; docs/versioning.md says whether it breaks)', () => {
    expect(readFileSync(API_DOC, 'utf8')).to.equal(doc);
  });

  it('covers the four entry points, each a source file of the package build', () => {
    const entries = apiEntryPoints();
    expect(entries.map((e) => e.specifier)).to.deep.equal(['signalpath', 'signalpath/operators', 'signalpath/schemas', 'signalpath/testing']);
    for (const entry of entries) expect(existsSync(entry.source), entry.source).to.equal(true);
    const build = JSON.parse(readFileSync(new URL('../../tsconfig.build.json', import.meta.url), 'utf8').replace(/^\s*\/\/.*$/gm, '')) as { files: string[] };
    for (const entry of entries) expect(build.files.map((f) => new URL(`../../${f}`, import.meta.url).pathname)).to.include(entry.source);
  });

  it('exports what a scaffolded project imports', () => {
    const section = (specifier: string): string => {
      const start = doc.indexOf(`\n## ${specifier}\n`);
      const next = doc.indexOf('\n## ', start + 1);
      return doc.slice(start, next === -1 ? undefined : next);
    };
    for (const name of ['defineTopology', 'filterRecords', 'mapRecords', 'toOutput', 'withContext', 'runTopology', 'Envelope', 'SettlementOutcome', 'ConfigError']) {
      expect(section('signalpath'), name).to.include(`\n### ${name}\n`);
    }
    for (const name of ['InferenceEventContract', 'MentionContract', 'contractIn', 'readSchemaCatalog', 'InferenceEvent', 'Mention', 'Contract']) {
      expect(section('signalpath/schemas'), name).to.include(`\n### ${name}\n`);
    }
    expect(section('signalpath/testing')).to.include('\n### TopologyTestDriver\n');
    for (const name of ['adaptiveSample', 'enrich', 'keyedPartition', 'parallelDetect', 'windowedDedup', 'banditBudget']) {
      expect(section('signalpath/operators'), name).to.include(`\n### ${name}\n`);
    }
  });
});
