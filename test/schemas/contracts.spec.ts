import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { CONTRACTS, DEFAULT_TOPICS, deadLetterTopic, findContract, readSchemaCatalog, SCHEMAS_DIR } from '../../schemas/index.js';
import { generateTypes } from '../../schemas/typegen.js';

/** Field name → Avro type, as the "Contracts" list names them (other tools depend on these). */
const EXPECTED: Record<string, Record<string, string>> = {
  'dev.signalpath.InferenceEvent': {
    event_id: 'string', ts: 'long/timestamp-millis', model_id: 'string', model_version: 'string', tenant: 'string',
    segment: 'string', features: 'array<float>', prediction: 'double', confidence: 'double', latency_ms: 'double',
    input_tokens: 'int', output_tokens: 'int', attributes: 'map<string>',
  },
  'dev.signalpath.Mention': {
    mention_id: 'string', emitted_at: 'long/timestamp-millis', window_start: 'long/timestamp-millis',
    window_end: 'long/timestamp-millis', model_id: 'string', model_version: 'string', tenant: 'string', segment: 'string',
    field: 'string', direction: 'enum<HIGH,LOW,SHIFT>', detector: 'string', score: 'double', cluster_id: 'string',
    event_count: 'long', evidence_event_ids: 'array<string>', shadow: 'boolean', attributes: 'map<string>',
  },
  'dev.signalpath.Label': {
    mention_id: 'string', labeled_at: 'long/timestamp-millis', verdict: 'enum<TRUE_POSITIVE,FALSE_POSITIVE,UNSURE>',
    labeler: 'string', note: 'union<null,string>',
  },
  'dev.signalpath.DeadLetter': {
    origin_topic: 'string', origin_partition: 'int', origin_offset: 'long', step: 'string', error: 'string',
    failed_at: 'long/timestamp-millis', key: 'union<null,bytes>', value: 'bytes',
  },
};

function describeType(schema: unknown): string {
  if (typeof schema === 'string') return schema;
  if (Array.isArray(schema)) return `union<${schema.map(describeType).join(',')}>`;
  const s = schema as Record<string, unknown>;
  if (s.type === 'array') return `array<${describeType(s.items)}>`;
  if (s.type === 'map') return `map<${describeType(s.values)}>`;
  if (s.type === 'enum') return `enum<${(s.symbols as string[]).join(',')}>`;
  if (typeof s.logicalType === 'string') return `${String(s.type)}/${s.logicalType}`;
  return describeType(s.type);
}

describe('schemas: topic contracts', () => {
  it('declare exactly the contracts, fields and types of issue 3', () => {
    const actual = Object.fromEntries(
      [...CONTRACTS.values()].map((c) => {
        const fields = (c.schema as { fields: { name: string; type: unknown }[] }).fields;
        return [c.name, Object.fromEntries(fields.map((f) => [f.name, describeType(f.type)]))];
      }),
    );
    expect(actual).to.deep.equal(EXPECTED);
  });

  it('give defaults where the contract says so, and a doc on every field', () => {
    const defaults = (name: string) =>
      Object.fromEntries(
        (CONTRACTS.get(name)!.schema as { fields: { name: string; default?: unknown }[] }).fields
          .filter((f) => 'default' in f)
          .map((f) => [f.name, f.default]),
      );
    expect(defaults('dev.signalpath.InferenceEvent')).to.deep.equal({ attributes: {} });
    expect(defaults('dev.signalpath.Mention')).to.deep.equal({ shadow: false, attributes: {} });
    for (const c of CONTRACTS.values()) {
      for (const f of (c.schema as { fields: { name: string; doc?: string }[] }).fields) {
        expect(f.doc?.length ?? 0, `${c.name}.${f.name} has a doc`).to.be.greaterThan(0);
      }
    }
  });

  it('register every contract folder under schemas/ and find them by name or folder', () => {
    const names = readSchemaCatalog(SCHEMAS_DIR).map((c) => c.name).sort();
    expect([...CONTRACTS.keys()].sort()).to.deep.equal(names);
    expect(findContract('mention')?.name).to.equal('dev.signalpath.Mention');
    expect(findContract('dev.signalpath.Label')?.folder).to.equal('label');
    expect(findContract('nope')).to.equal(undefined);
  });

  it('keep the default topic names other tools expect', () => {
    expect(DEFAULT_TOPICS).to.deep.equal({
      inferenceEvents: 'inference-events',
      mentions: 'mentions',
      mentionsReview: 'mentions.review',
      labels: 'labels',
    });
    expect(deadLetterTopic('passthrough')).to.equal('passthrough.dlq');
  });

  it('have generated TypeScript types that are up to date (run `npm run schemas:types` if this fails)', () => {
    const committed = readFileSync(join(SCHEMAS_DIR, 'types.generated.ts'), 'utf8');
    expect(generateTypes(readSchemaCatalog(SCHEMAS_DIR))).to.equal(committed);
  });
});
