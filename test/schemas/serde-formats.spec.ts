/**
 * The three topic formats (avro, avro-confluent, json) and what happens to a record written in a
 * format other than the one configured: a SchemaDecodeError whose reason names the setting to change
 * (the source dead-letters it with that reason). The registry side runs against the client library's
 * in-memory mock here; test/integration/schema-registry.spec.ts runs it against a real registry.
 */
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { MockClient } from '@confluentinc/schemaregistry/dist/mock-schemaregistry-client.js';
import {
  contractFrom,
  DeadLetterContract,
  InferenceEventContract,
  MentionContract,
  readSchemaCatalog,
  type Contract,
  type InferenceEvent,
} from '../../schemas/index.js';
import { createTopicSerde, decodeResolvingWriter, SCHEMA_HEADER, SchemaDecodeError, SchemaValidationError } from '../../runtime/serde/index.js';
import { resolveFormats } from '../../runtime/runner.js';
import { ConfigError, parseTopicFormats, readSetting } from '../../runtime/config.js';
import { loadTopology } from '../../runtime/topology-loader.js';
import type { Topology } from '../../runtime/topology.js';
import { arbitraryFor } from './arbitraries.js';

const event: InferenceEvent = {
  event_id: 'e-1',
  ts: 1_763_900_000_000,
  model_id: 'model-7',
  model_version: '3',
  tenant: 't1',
  segment: 'enterprise',
  features: [0.5, -1.25],
  prediction: 0.7,
  confidence: 0.9,
  latency_ms: 12.5,
  input_tokens: 10,
  output_tokens: 20,
  attributes: { region: 'eu' },
};

/** What a producer outside signalpath writes: the Avro binary of the contract, no headers. */
const plainBytes = (value: unknown, contract: Contract<unknown> = InferenceEventContract as Contract<unknown>): Buffer => contract.type.toBuffer(value);

/** The reason a decode fails with, or a test failure. */
function reasonOf(decode: () => unknown): string {
  try {
    decode();
  } catch (error) {
    expect(error).to.be.instanceOf(SchemaDecodeError);
    return (error as SchemaDecodeError).reason;
  }
  return expect.fail('decode should have thrown');
}

describe('serde formats', () => {
  describe('avro without sp-schema headers (a producer outside signalpath)', () => {
    const serde = createTopicSerde({ contract: InferenceEventContract, role: 'input' });

    it('reads any valid record as the declared contract at its newest version (property)', () => {
      fc.assert(
        fc.property(arbitraryFor(InferenceEventContract.type), (value) => {
          const decoded = serde.decode(plainBytes(value), {});
          expect(InferenceEventContract.type.isValid(decoded)).to.equal(true);
          expect(InferenceEventContract.type.toBuffer(decoded).equals(plainBytes(value))).to.equal(true);
        }),
        { numRuns: 200 },
      );
    });

    it('still reads records with the headers as before', () => {
      const encoded = serde.encode(event);
      expect(encoded.headers[SCHEMA_HEADER]).to.not.equal(undefined);
      expect(serde.decode(encoded.value, encoded.headers)).to.deep.equal(event);
    });

    it('recognises the Confluent wire format and names the setting to change', () => {
      const wire = Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), plainBytes(event)]);
      const reason = reasonOf(() => serde.decode(wire, {}));
      expect(reason).to.include('Confluent wire format (magic byte 0, schema id 7)');
      expect(reason).to.include('--format input=avro-confluent');
      expect(reason).to.include('SCHEMA_REGISTRY_URL');
    });

    it('recognises JSON and names the setting to change', () => {
      const reason = reasonOf(() => serde.decode(Buffer.from(JSON.stringify(event)), {}));
      expect(reason).to.include('looks like JSON');
      expect(reason).to.include('--format input=json');
    });

    it('says which writer version it read with when the bytes are not the contract', () => {
      const reason = reasonOf(() => serde.decode(Buffer.from([2, 0x61]), {}));
      expect(reason).to.match(/v1, no sp-schema header/);
    });

    describe('with an older writer version set', () => {
      let dir: string;
      let thing: Contract<Record<string, unknown>>;
      let thingV1: Contract<Record<string, unknown>>;
      before(() => {
        dir = mkdtempSync(join(tmpdir(), 'sp-formats-'));
        mkdirSync(join(dir, 'thing'));
        const base = { type: 'record', name: 'Thing', namespace: 'dev.test' };
        writeFileSync(join(dir, 'thing', 'v1.avsc'), JSON.stringify({ ...base, fields: [{ name: 'id', type: 'string' }, { name: 'count', type: 'int' }] }));
        writeFileSync(
          join(dir, 'thing', 'v2.avsc'),
          JSON.stringify({ ...base, fields: [{ name: 'id', type: 'string' }, { name: 'count', type: 'long' }, { name: 'note', type: ['null', 'string'], default: null }] }),
        );
        const [catalog] = readSchemaCatalog(dir);
        thing = contractFrom(catalog!);
        thingV1 = contractFrom({ ...catalog!, versions: catalog!.versions.slice(0, 1) });
      });
      after(() => rmSync(dir, { recursive: true, force: true }));

      it('resolves header-less v1 records into the v2 reader', () => {
        const serdeV1 = createTopicSerde({ contract: thing, headerlessWriterVersion: 1 });
        const bytes = thingV1.type.toBuffer({ id: 'a', count: 3 });
        expect(serdeV1.decode(bytes, {})).to.deep.equal({ id: 'a', count: 3, note: null });
        // Read as v2 (the default) the same bytes are short: the reason says so and which version.
        const reason = reasonOf(() => createTopicSerde({ contract: thing }).decode(bytes, {}));
        expect(reason).to.include('v2, no sp-schema header');
      });

      it('refuses a writer version the contract does not have, naming the versions', () => {
        expect(() => createTopicSerde({ contract: thing, headerlessWriterVersion: 3 })).to.throw(TypeError, 'must be one of 1, 2, got 3');
      });
    });
  });

  describe('avro-confluent', () => {
    it('recognises signalpath plain Avro (its sp-schema header) and names the setting to change', () => {
      const serde = createTopicSerde({ contract: InferenceEventContract, role: 'input', format: 'avro-confluent', schemaRegistry: { client: new MockClient({ baseURLs: ['mock://formats'] }) }, topic: 'events' });
      const plain = createTopicSerde({ contract: InferenceEventContract }).encode(event);
      const reason = reasonOf(() => serde.decode(plain.value, plain.headers));
      expect(reason).to.include('expected the Confluent wire-format magic byte 0x00');
      expect(reason).to.include('--format input=avro');
    });

    it('recognises JSON on a wire-format topic', () => {
      const serde = createTopicSerde({ contract: InferenceEventContract, role: 'input', format: 'avro-confluent', schemaRegistry: { client: new MockClient({ baseURLs: ['mock://formats'] }) }, topic: 'events' });
      expect(reasonOf(() => serde.decode(Buffer.from(JSON.stringify(event)), {}))).to.include('--format input=json');
    });

    it('reads a record written by another registry producer into the declared reader', async () => {
      const client = new MockClient({ baseURLs: ['mock://formats-2'] });
      const writer = createTopicSerde({ contract: InferenceEventContract, format: 'avro-confluent', schemaRegistry: { client }, topic: 'events' });
      await writer.prepare();
      const reader = createTopicSerde({ contract: InferenceEventContract, format: 'avro-confluent', schemaRegistry: { client }, topic: 'events' });
      const { value } = writer.encode(event);
      expect(await decodeResolvingWriter(reader, value, {})).to.deep.equal(event);
    });

    it('needs a registry', () => {
      expect(() => createTopicSerde({ contract: InferenceEventContract, format: 'avro-confluent' })).to.throw(TypeError, 'SCHEMA_REGISTRY_URL');
    });
  });

  describe('json', () => {
    const serde = createTopicSerde({ contract: InferenceEventContract, role: 'input', format: 'json' });

    it('round-trips any valid record, and refuses NaN and Infinity, which JSON cannot carry (property)', () => {
      fc.assert(
        fc.property(arbitraryFor(InferenceEventContract.type), (value) => {
          const { prediction, confidence, latency_ms, features } = value as InferenceEvent;
          const numbers = [prediction, confidence, latency_ms, ...features];
          if (numbers.some((n) => !Number.isFinite(n))) {
            expect(() => serde.encode(value as InferenceEvent)).to.throw(SchemaValidationError, 'a finite number (JSON has no NaN or Infinity)');
            return;
          }
          const encoded = serde.encode(value as InferenceEvent);
          expect(encoded.headers).to.deep.equal({});
          // JSON numbers are doubles: a float field read back is the same double that was written.
          expect(serde.decode(encoded.value, {})).to.deep.equal(JSON.parse(JSON.stringify(value)));
        }),
        { numRuns: 200 },
      );
    });

    it('fills fields the contract gives a default and drops undeclared ones', () => {
      const { attributes: _omitted, ...withoutAttributes } = event;
      const decoded = serde.decode(Buffer.from(JSON.stringify({ ...withoutAttributes, extra: 'ignored' })), {});
      expect(decoded).to.deep.equal({ ...event, attributes: {} });
    });

    it('names every field that does not match, with its path', () => {
      const bad = { ...event, input_tokens: 1.5, features: [0.5, 'x'], model_id: undefined };
      const reason = reasonOf(() => serde.decode(Buffer.from(JSON.stringify(bad)), {}));
      expect(reason).to.include('JSON does not match dev.signalpath.InferenceEvent v1');
      expect(reason).to.include('inferenceEvent.model_id: undefined (missing) is not a string');
      expect(reason).to.include('inferenceEvent.features[1]: "x" is not a float');
      expect(reason).to.include('inferenceEvent.input_tokens: 1.5 is not an int');
    });

    it('rejects what is not a JSON object, and recognises Avro', () => {
      expect(reasonOf(() => serde.decode(Buffer.from('[1,2]'), {}))).to.include('JSON value is [1,2]; expected an object');
      expect(reasonOf(() => serde.decode(Buffer.from('{"event_id": '), {}))).to.include('not JSON');
      const wire = Buffer.concat([Buffer.from([0, 0, 0, 0, 3]), plainBytes(event)]);
      expect(reasonOf(() => serde.decode(wire, {}))).to.include('--format input=avro-confluent');
      const plain = createTopicSerde({ contract: InferenceEventContract }).encode(event);
      expect(reasonOf(() => serde.decode(plain.value, plain.headers))).to.include('--format input=avro');
    });

    it('refuses to encode an invalid value, naming the field', () => {
      expect(() => serde.encode({ ...event, confidence: 'high' } as unknown as InferenceEvent)).to.throw(SchemaValidationError, 'inferenceEvent.confidence');
    });

    it('refuses a contract with bytes fields', () => {
      expect(() => createTopicSerde({ contract: DeadLetterContract, format: 'json' })).to.throw(TypeError, 'format json cannot carry its key field');
    });
  });

  describe('run settings', () => {
    let passthrough: Topology<unknown>;
    before(async () => {
      passthrough = (await loadTopology('passthrough')) as Topology<unknown>;
    });

    it('defaults every role to avro, or to avro-confluent with a registry', () => {
      const roles = resolveFormats(passthrough, {}, undefined);
      expect(new Set(Object.values(roles))).to.deep.equal(new Set(['avro']));
      expect(resolveFormats(passthrough, { input: 'json' }, 'http://registry:8081').input).to.equal('json');
      expect(resolveFormats(passthrough, {}, 'http://registry:8081').dlq).to.equal('avro-confluent');
    });

    it('refuses what a run could only find out later, naming the setting', () => {
      expect(() => resolveFormats(passthrough, { nope: 'json' }, undefined)).to.throw(ConfigError, '"nope" is not a role of topology passthrough');
      expect(() => resolveFormats(passthrough, { input: 'avro-confluent' }, undefined)).to.throw(ConfigError, 'SCHEMA_REGISTRY_URL');
      expect(() => resolveFormats(passthrough, { dlq: 'json' }, undefined)).to.throw(ConfigError, '--format dlq=json');
      expect(() => resolveFormats(passthrough, {}, undefined, 9)).to.throw(ConfigError, '--input-writer-version 9');
    });

    it('parses role=format lists and rejects unknown formats by setting name', () => {
      expect(parseTopicFormats(readSetting('topicFormats', 'input=json,dlq=avro', {}) as string)).to.deep.equal({ input: 'json', dlq: 'avro' });
      expect(() => readSetting('topicFormats', undefined, { SIGNALPATH_TOPIC_FORMATS: 'input=protobuf' })).to.throw(ConfigError, 'SIGNALPATH_TOPIC_FORMATS');
    });
  });

  it('keeps Mention round trips unchanged in every format that can carry it', async () => {
    const client = new MockClient({ baseURLs: ['mock://formats-3'] });
    for (const format of ['avro', 'avro-confluent', 'json'] as const) {
      const serde = createTopicSerde({ contract: MentionContract, format, topic: 'mentions', schemaRegistry: { client } });
      await serde.prepare();
      const mention = fc.sample(arbitraryFor(MentionContract.type).filter((m) => Number.isFinite((m as { score: number }).score)), { numRuns: 1, seed: 7 })[0]!;
      const { value, headers } = serde.encode(mention as never);
      expect(await decodeResolvingWriter(serde, value, headers), format).to.deep.equal(JSON.parse(JSON.stringify(mention)));
    }
  });
});
