import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import avro from 'avsc';
import { expect } from 'chai';
import fc from 'fast-check';
import {
  CONTRACTS,
  contractFrom,
  InferenceEventContract,
  LabelContract,
  MentionContract,
  readSchemaCatalog,
  type Contract,
  type InferenceEvent,
  type Mention,
} from '../../schemas/index.js';
import {
  createTopicSerde,
  SCHEMA_HEADER,
  SCHEMA_VERSION_HEADER,
  SchemaDecodeError,
  SchemaValidationError,
} from '../../runtime/serde/index.js';
import { arbitraryFor } from './arbitraries.js';

const mention: Mention = {
  mention_id: 'm-1',
  emitted_at: 1_763_900_000_500,
  window_start: 1_763_900_000_000,
  window_end: 1_763_900_060_000,
  model_id: 'model-7',
  model_version: '3',
  tenant: 't1',
  segment: 'enterprise',
  field: 'latency_ms',
  direction: 'HIGH',
  detector: 'ewma',
  score: 4.2,
  cluster_id: 'c-9',
  event_count: 12,
  evidence_event_ids: ['e1', 'e2'],
  shadow: false,
  attributes: {},
};

const event: InferenceEvent = {
  event_id: 'e-1',
  ts: 1_763_900_000_000,
  model_id: 'model-7',
  model_version: '3',
  tenant: 't1',
  segment: 'free',
  features: [0.5, -1.25, 3],
  prediction: 0.7,
  confidence: 0.9,
  latency_ms: 120.5,
  input_tokens: 300,
  output_tokens: 40,
  attributes: { region: 'eu' },
};

function headersOf(name: string, version: string): Record<string, Buffer> {
  return { [SCHEMA_HEADER]: Buffer.from(name), [SCHEMA_VERSION_HEADER]: Buffer.from(version) };
}

describe('serde (plain mode)', () => {
  for (const contract of CONTRACTS.values()) {
    it(`round-trips any valid ${contract.name} (property)`, () => {
      const serde = createTopicSerde({ contract, initialEncodeBufferBytes: 16 }); // small: exercises growth
      fc.assert(
        fc.property(arbitraryFor(contract.type), (value) => {
          const { value: bytes, headers } = serde.encode(value);
          expect(serde.decode(bytes, headers)).to.deep.equal(value);
        }),
        { numRuns: 200 },
      );
    });
  }

  it('writes the schema name and version in headers, and plain Avro as the value', () => {
    const serde = createTopicSerde({ contract: MentionContract });
    const { value, headers } = serde.encode(mention);
    expect(headers[SCHEMA_HEADER]!.toString()).to.equal('dev.signalpath.Mention');
    expect(headers[SCHEMA_VERSION_HEADER]!.toString()).to.equal('1');
    expect(MentionContract.type.fromBuffer(value)).to.deep.equal(mention);
  });

  it('returns a fresh buffer per record (the encode buffer is reused internally)', () => {
    const serde = createTopicSerde({ contract: MentionContract });
    const a = serde.encode(mention).value;
    const copy = Buffer.from(a);
    serde.encode({ ...mention, mention_id: 'another id, longer than the first' });
    expect(a.equals(copy)).to.equal(true);
  });

  it('fills fields with defaults when a writer leaves them out', () => {
    const serde = createTopicSerde({ contract: MentionContract });
    const { shadow: _s, attributes: _a, ...withoutDefaults } = mention;
    const { value, headers } = serde.encode(withoutDefaults as Mention);
    expect(serde.decode(value, headers)).to.deep.equal({ ...mention, shadow: false, attributes: {} });
  });

  it('keeps a map entry whose key is "__proto__"', () => {
    const serde = createTopicSerde({ contract: InferenceEventContract });
    const attributes = JSON.parse('{"__proto__": "x", "a": "b"}') as Record<string, string>;
    const { value, headers } = serde.encode({ ...event, attributes });
    const decoded = serde.decode(value, headers);
    expect(Object.keys(decoded.attributes)).to.deep.equal(['__proto__', 'a']);
    expect(Object.getPrototypeOf(decoded.attributes)).to.equal(Object.prototype);
  });

  describe('validation', () => {
    it('names the field path and what is accepted', () => {
      const serde = createTopicSerde({ contract: MentionContract });
      const bad = { ...mention, direction: 'UP' } as unknown as Mention;
      expect(() => serde.encode(bad)).to.throw(SchemaValidationError, 'mention.direction: "UP" is not one of HIGH, LOW, SHIFT');
    });

    it('names every failing path, inside arrays and maps too', () => {
      const serde = createTopicSerde({ contract: InferenceEventContract });
      const bad = { ...event, features: [1, 'x'], input_tokens: 1.5, attributes: { region: 5 } } as unknown as InferenceEvent;
      let error: SchemaValidationError | undefined;
      try {
        serde.encode(bad);
      } catch (err) {
        error = err as SchemaValidationError;
      }
      expect(error).to.be.instanceOf(SchemaValidationError);
      expect(error!.issues.map((i) => i.path)).to.deep.equal([
        'inferenceEvent.features[1]',
        'inferenceEvent.input_tokens',
        'inferenceEvent.attributes["region"]',
      ]);
      expect(error!.message).to.include('inferenceEvent.input_tokens: 1.5 is not an int (a 32-bit integer)');
      expect(error!.message).to.include('inferenceEvent.features[1]: "x" is not a float (a number)');
    });

    it('reports a missing required field as missing', () => {
      const serde = createTopicSerde({ contract: LabelContract });
      expect(() => serde.encode({ mention_id: 'm', labeled_at: 1, verdict: 'UNSURE', note: null } as never)).to.throw(
        SchemaValidationError,
        'label.labeler: undefined (missing) is not a string',
      );
    });

    it('rejects exactly what isValid rejects: an invalid value is never written (property)', () => {
      // Corrupt one field of a valid value with a value of some other shape.
      const junk = fc.oneof(fc.string(), fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.array(fc.integer()), fc.object());
      for (const contract of CONTRACTS.values()) {
        const serde = createTopicSerde({ contract });
        const fields = (contract.schema as { fields: { name: string }[] }).fields.map((f) => f.name);
        fc.assert(
          fc.property(arbitraryFor(contract.type), fc.constantFrom(...fields), junk, (value, field, replacement) => {
            const corrupted = { ...(value as object), [field]: replacement };
            // avsc's own check throws on values it cannot coerce (an object whose toString is not a function).
            let valid: boolean;
            try {
              valid = contract.type.isValid(corrupted);
            } catch {
              valid = false;
            }
            let threw: unknown;
            try {
              serde.encode(corrupted);
            } catch (err) {
              threw = err;
            }
            if (valid) expect(threw).to.equal(undefined);
            else expect(threw).to.be.instanceOf(SchemaValidationError);
          }),
          { numRuns: 300 },
        );
      }
    });
  });

  it('rejects a value whose check makes avsc throw (an object with a non-callable toString) as a validation error', () => {
    const serde = createTopicSerde({ contract: InferenceEventContract });
    expect(() => serde.encode({ ...event, input_tokens: { toString: {} } as unknown as number })).to.throw(SchemaValidationError, /input_tokens|its check threw/);
  });

  describe('decode failures', () => {
    const serde = createTopicSerde({ contract: InferenceEventContract });
    const good = serde.encode(event);

    it('rejects every truncation of a valid record with SchemaDecodeError', () => {
      for (let length = 0; length < good.value.length; length++) {
        expect(() => serde.decode(good.value.subarray(0, length), good.headers), `length ${length}`).to.throw(SchemaDecodeError);
      }
    });

    it('rejects trailing bytes (written with a different schema)', () => {
      expect(() => serde.decode(Buffer.concat([good.value, Buffer.from([1, 2])]), good.headers)).to.throw(SchemaDecodeError, '2 trailing bytes');
    });

    it('rejects random bytes with SchemaDecodeError, or decodes them to a valid value (property)', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
          try {
            const value = serde.decode(Buffer.from(bytes), good.headers);
            // Garbage can happen to be a well-formed record; then it must at least be a valid one.
            expect(InferenceEventContract.type.isValid(value)).to.equal(true);
          } catch (err) {
            expect(err).to.be.instanceOf(SchemaDecodeError);
          }
        }),
        { numRuns: 2000 },
      );
    });

    it('rejects an array block count that cannot fit, before allocating it', () => {
      // The fields before `features`, then a block count of 300 million: unguarded avsc runs out of heap.
      const fields = (InferenceEventContract.schema as { fields: { name: string }[] }).fields;
      const before = avro.Type.forSchema({ type: 'record', name: 'Before', fields: fields.slice(0, fields.findIndex((f) => f.name === 'features')) } as avro.Schema);
      const prefix = before.toBuffer(event);
      const huge = avro.Type.forSchema('long').toBuffer(300_000_000);
      const poison = Buffer.concat([prefix, huge]);
      const started = process.hrtime.bigint();
      expect(() => serde.decode(poison, good.headers)).to.throw(SchemaDecodeError, 'array block claims 300000000 items');
      expect(Number(process.hrtime.bigint() - started) / 1e6).to.be.lessThan(100);
    });

    it('rejects a map block count that cannot fit', () => {
      const type = avro.Type.forSchema({ type: 'map', values: 'string' });
      const contract = contractFrom<unknown>({
        folder: 'm',
        name: 'dev.test.M',
        versions: [{ version: 1, file: 'x', schema: { type: 'record', name: 'M', namespace: 'dev.test', fields: [{ name: 'm', type: type.schema() }] }, type }],
      });
      const mapSerde = createTopicSerde({ contract });
      const poison = avro.Type.forSchema('long').toBuffer(1_000_000_000);
      expect(() => mapSerde.decode(poison, headersOf('dev.test.M', '1'))).to.throw(SchemaDecodeError, 'map block claims');
    });

    it('rejects a wrong, incomplete or unknown schema header, saying what was expected', () => {
      expect(() => serde.decode(good.value, headersOf('dev.signalpath.Mention', '1'))).to.throw(
        SchemaDecodeError,
        'header sp-schema is "dev.signalpath.Mention"; expected dev.signalpath.InferenceEvent',
      );
      // Without any header the record is a plain Avro producer's: test/schemas/serde-formats.spec.ts.
      expect(() => serde.decode(good.value, { [SCHEMA_HEADER]: good.headers[SCHEMA_HEADER]! })).to.throw(
        SchemaDecodeError,
        'missing header sp-schema-version',
      );
      expect(() => serde.decode(good.value, headersOf('dev.signalpath.InferenceEvent', '9'))).to.throw(
        SchemaDecodeError,
        'unknown sp-schema-version "9"; this reader knows versions 1 (written by a newer writer: upgrade this reader)',
      );
    });

    it('gives the reason on the error', () => {
      try {
        serde.decode(good.value.subarray(0, 3), good.headers);
        expect.fail('decode should throw');
      } catch (err) {
        expect((err as SchemaDecodeError).reason).to.match(/truncated|malformed/);
        expect((err as SchemaDecodeError).contract).to.equal('dev.signalpath.InferenceEvent');
      }
    });
  });

  describe('schema evolution', () => {
    let dir: string;
    let v1Only: Contract<Record<string, unknown>>;
    let v1AndV2: Contract<Record<string, unknown>>;

    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'sp-schemas-'));
      mkdirSync(join(dir, 'thing'));
      const base = { type: 'record', name: 'Thing', namespace: 'dev.test' };
      const v1 = { ...base, fields: [{ name: 'id', type: 'string' }, { name: 'count', type: 'int' }, { name: 'tags', type: { type: 'array', items: 'string' } }] };
      const v2 = {
        ...base,
        fields: [
          { name: 'id', type: 'string' },
          { name: 'count', type: 'long' }, // int → long: a promotion
          { name: 'level', type: { type: 'enum', name: 'Level', symbols: ['LOW', 'HIGH'] }, default: 'LOW' },
          { name: 'note', type: ['null', 'string'], default: null },
        ], // `tags` removed: old data skips it
      };
      writeFileSync(join(dir, 'thing', 'v1.avsc'), JSON.stringify(v1));
      writeFileSync(join(dir, 'thing', 'v2.avsc'), JSON.stringify(v2));
      const [thing] = readSchemaCatalog(dir);
      v1AndV2 = contractFrom(thing!);
      v1Only = contractFrom({ ...thing!, versions: thing!.versions.slice(0, 1) });
    });

    after(() => rmSync(dir, { recursive: true, force: true }));

    it('resolves an older writer into the newest reader', () => {
      const writer = createTopicSerde({ contract: v1Only });
      const reader = createTopicSerde({ contract: v1AndV2 });
      const { value, headers } = writer.encode({ id: 'a', count: 7, tags: ['x', 'y'] });
      expect(headers[SCHEMA_VERSION_HEADER]!.toString()).to.equal('1');
      expect(reader.decode(value, headers)).to.deep.equal({ id: 'a', count: 7, level: 'LOW', note: null });
    });

    it('rejects a newer writer it does not know', () => {
      const writer = createTopicSerde({ contract: v1AndV2 });
      const reader = createTopicSerde({ contract: v1Only });
      const { value, headers } = writer.encode({ id: 'a', count: 7, level: 'HIGH', note: 'n' });
      expect(() => reader.decode(value, headers)).to.throw(SchemaDecodeError, 'upgrade this reader');
    });
  });
});
