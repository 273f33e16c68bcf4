import { expect } from 'chai';
import fc from 'fast-check';
// The mock client alone: the package index would load every cloud KMS SDK (~1 s).
import { MockClient } from '@confluentinc/schemaregistry/dist/mock-schemaregistry-client.js';
import { contractFrom, MentionContract, type Mention } from '../../schemas/index.js';
import type avro from 'avsc';
import {
  createTopicSerde,
  decodeResolvingWriter,
  schemaRegistryFromEnv,
  SchemaDecodeError,
  SchemaValidationError,
  UnknownWriterSchemaError,
  WIRE_FORMAT_HEADER_BYTES,
} from '../../runtime/serde/index.js';
import { arbitraryFor } from './arbitraries.js';
import { parseGuardedType } from '../../runtime/serde/bounded-blocks.js';

// There is no schema registry on this machine: these tests use the in-memory MockClient that
// @confluentinc/schemaregistry ships (also what `mock://` URLs give). The wire format is ours.

const mention: Mention = {
  mention_id: 'm-1',
  emitted_at: 1_763_900_000_500,
  window_start: 1_763_900_000_000,
  window_end: 1_763_900_060_000,
  model_id: 'model-7',
  model_version: '3',
  tenant: 't1',
  segment: 'enterprise',
  field: 'features[3]',
  direction: 'SHIFT',
  detector: 'adwin',
  score: 0.93,
  cluster_id: 'c-1',
  event_count: 4,
  evidence_event_ids: ['e1'],
  shadow: true,
  attributes: { why: 'test' },
};

/** A contract with one version, from a schema object (for evolution tests). */
function contractOf<T>(schema: avro.Schema, version = 1) {
  const type = parseGuardedType(schema);
  return contractFrom<T>({ folder: 'x', name: type.name!, versions: [{ version, file: 'inline', schema, type }] });
}

const mentionV0Schema = {
  type: 'record',
  name: 'Mention',
  namespace: 'dev.signalpath',
  fields: [
    { name: 'mention_id', type: 'string' },
    { name: 'emitted_at', type: 'long' },
    { name: 'window_start', type: 'long' },
    { name: 'window_end', type: 'long' },
    { name: 'model_id', type: 'string' },
    { name: 'model_version', type: 'string' },
    { name: 'tenant', type: 'string' },
    { name: 'segment', type: 'string' },
    { name: 'field', type: 'string' },
    { name: 'direction', type: { type: 'enum', name: 'Direction', symbols: ['HIGH', 'LOW', 'SHIFT'] } },
    { name: 'detector', type: 'string' },
    { name: 'score', type: 'double' },
    { name: 'cluster_id', type: 'string' },
    { name: 'event_count', type: 'long' },
    { name: 'evidence_event_ids', type: { type: 'array', items: 'string' } },
    { name: 'dropped_later', type: 'string' },
  ], // no shadow, no attributes: the reader fills their defaults
} as avro.Schema;

describe('serde (registry mode, Confluent wire format)', () => {
  let client: MockClient;
  beforeEach(() => {
    client = new MockClient();
  });

  it('registers the writer schema under <topic>-value and frames values as 0 + id + Avro', async () => {
    const serde = createTopicSerde({ contract: MentionContract, topic: 'mentions', schemaRegistry: { client } });
    expect(serde.mode).to.equal('registry');
    await serde.prepare();
    const id = await client.getId('mentions-value', { schemaType: 'AVRO', schema: JSON.stringify(MentionContract.schema) });
    const { value, headers } = serde.encode(mention);
    expect(value[0]).to.equal(0);
    expect(value.readUInt32BE(1)).to.equal(id);
    expect(MentionContract.type.fromBuffer(value.subarray(WIRE_FORMAT_HEADER_BYTES))).to.deep.equal(mention);
    expect(headers).to.deep.equal({});
    expect(serde.decode(value, {})).to.deep.equal(mention);
  });

  it('round-trips any valid Mention (property)', async () => {
    const serde = createTopicSerde({ contract: MentionContract, topic: 'mentions', schemaRegistry: { client }, initialEncodeBufferBytes: 8 });
    await serde.prepare();
    fc.assert(
      fc.property(arbitraryFor(MentionContract.type), (value) => {
        expect(serde.decode(serde.encode(value as Mention).value, {})).to.deep.equal(value);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses to encode before prepare(), and validates like plain mode', async () => {
    const serde = createTopicSerde({ contract: MentionContract, topic: 'mentions', schemaRegistry: { client } });
    expect(() => serde.encode(mention)).to.throw('before prepare()');
    await serde.prepare();
    expect(() => serde.encode({ ...mention, direction: 'UP' } as unknown as Mention)).to.throw(SchemaValidationError, 'mention.direction');
  });

  it('throws UnknownWriterSchemaError for a new writer id, and reads it (resolved) after resolveWriter', async () => {
    const oldWriter = createTopicSerde({ contract: contractOf<Record<string, unknown>>(mentionV0Schema), topic: 'mentions', schemaRegistry: { client } });
    const reader = createTopicSerde({ contract: MentionContract, topic: 'mentions', schemaRegistry: { client } });
    await Promise.all([oldWriter.prepare(), reader.prepare()]);
    const { shadow: _s, attributes: _a, ...v0 } = mention;
    const bytes = oldWriter.encode({ ...v0, dropped_later: 'gone' }).value;

    let error: unknown;
    try {
      reader.decode(bytes, {});
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(UnknownWriterSchemaError);
    expect((error as UnknownWriterSchemaError).schemaId).to.equal(bytes.readUInt32BE(1));

    await reader.resolveWriter(bytes);
    expect(reader.decode(bytes, {})).to.deep.equal({ ...mention, shadow: false, attributes: {} });
  });

  it('decodeResolvingWriter fetches an unknown writer once and decodes', async () => {
    const writer = createTopicSerde({ contract: MentionContract, topic: 'mentions', schemaRegistry: { client } });
    await writer.prepare();
    const reader = createTopicSerde({ contract: MentionContract, topic: 'mentions', schemaRegistry: { client, autoRegister: false } });
    // The reader never prepared: every writer id is unknown to it until fetched.
    expect(await decodeResolvingWriter(reader, writer.encode(mention).value, {})).to.deep.equal(mention);
  });

  it('gives SchemaDecodeError for an id the registry does not know, and for an unreadable writer schema', async () => {
    const reader = createTopicSerde({ contract: MentionContract, topic: 'mentions', schemaRegistry: { client } });
    await reader.prepare();
    const unknownId = Buffer.concat([Buffer.from([0, 0, 0, 0x30, 0x39]), Buffer.from([2, 65])]);
    await reader.resolveWriter(unknownId);
    expect(() => reader.decode(unknownId, {})).to.throw(SchemaDecodeError, 'writer schema id 12345 is not in the registry');

    const other = createTopicSerde({
      contract: contractOf({ type: 'record', name: 'Mention', namespace: 'dev.signalpath', fields: [{ name: 'mention_id', type: 'int' }] } as avro.Schema),
      topic: 'mentions',
      schemaRegistry: { client },
    });
    await other.prepare();
    const bytes = other.encode({ mention_id: 5 }).value;
    await reader.resolveWriter(bytes);
    expect(() => reader.decode(bytes, {})).to.throw(SchemaDecodeError, 'cannot be read as dev.signalpath.Mention');
  });

  it('rejects bytes that are not in the wire format, and garbage after a known id', async () => {
    const serde = createTopicSerde({ contract: MentionContract, topic: 'mentions', schemaRegistry: { client } });
    await serde.prepare();
    expect(() => serde.decode(Buffer.from([0, 0, 1]), {})).to.throw(SchemaDecodeError, 'too short for the Confluent wire format');
    const good = serde.encode(mention).value;
    const plain = Buffer.from(good);
    plain[0] = 7;
    expect(() => serde.decode(plain, {})).to.throw(SchemaDecodeError, 'expected the Confluent wire-format magic byte 0x00');
    expect(() => serde.decode(good.subarray(0, good.length - 3), {})).to.throw(SchemaDecodeError);
    expect(() => serde.decode(Buffer.concat([good, Buffer.from([0])]), {})).to.throw(SchemaDecodeError, 'trailing');
  });

  it('with autoRegister off, fails prepare() naming the subject when the schema is not registered', async () => {
    const serde = createTopicSerde({ contract: MentionContract, topic: 'mentions', schemaRegistry: { client, autoRegister: false } });
    try {
      await serde.prepare();
      expect.fail('prepare should reject');
    } catch (err) {
      expect((err as Error).message).to.include('cannot find (autoRegister is off) dev.signalpath.Mention v1 under subject mentions-value');
    }
  });

  it('works from a mock:// URL, as SCHEMA_REGISTRY_URL would configure it', async () => {
    const schemaRegistry = schemaRegistryFromEnv({ SCHEMA_REGISTRY_URL: 'mock://signalpath-test' });
    expect(schemaRegistry).to.deep.equal({ url: 'mock://signalpath-test' });
    expect(schemaRegistryFromEnv({})).to.equal(undefined);
    const serde = createTopicSerde({ contract: MentionContract, topic: 'mentions', schemaRegistry: schemaRegistry! });
    await serde.prepare();
    expect(serde.decode(serde.encode(mention).value, {})).to.deep.equal(mention);
  });

  it('checks its options when created, naming the option', () => {
    expect(() => createTopicSerde({ contract: MentionContract, schemaRegistry: { client } })).to.throw(TypeError, 'options.topic');
    expect(() => createTopicSerde({ contract: MentionContract, topic: 't', schemaRegistry: { url: 'localhost:8081' } })).to.throw(
      TypeError,
      'schemaRegistry.url must be http(s)://host:port',
    );
    expect(() => createTopicSerde({ contract: MentionContract, topic: 't', schemaRegistry: {} })).to.throw(TypeError, 'needs a url or a client');
    expect(() => createTopicSerde({ contract: MentionContract, initialEncodeBufferBytes: 0 })).to.throw(TypeError, 'initialEncodeBufferBytes');
  });
});
