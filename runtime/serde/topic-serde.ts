/**
 * The Avro codec between a topic's bytes and a contract's values, used by the Kafka source and sink.
 *
 * `encode` and `decode` are synchronous and allocate little (they run once per record); anything that
 * needs the network (the schema registry) happens in `prepare()` and `resolveWriter()`.
 *
 * Three formats (formats.ts), one per topic:
 * - `avro` (plain mode, the default without a registry): plain Avro binary; signalpath writes the
 *   headers `sp-schema` (full Avro name) and `sp-schema-version`, and reads records without them as
 *   the declared contract at a configured writer version (a producer outside signalpath).
 * - `avro-confluent` (registry mode, the default when a schema registry is configured, e.g.
 *   SCHEMA_REGISTRY_URL): the Confluent wire format (magic byte 0 + 4-byte schema id + Avro) that
 *   Confluent's, Redpanda's and Apicurio's registries serve.
 * - `json`: a JSON object checked against the contract's Avro schema.
 *
 * Values are avsc's default representation: longs (and timestamp-millis) as JS numbers, bytes as
 * Buffers, unions unwrapped (`string | null`). Known limit of avsc 5.7.9: a long is exact within
 * ±2^52; avsc writes negative longs down to -(2^53 - 2) but reads those below -2^52 back off by one.
 */
import type { Client } from '@confluentinc/schemaregistry';
import type { Contract } from '../../schemas/index.js';
import { PlainCodec } from './plain-codec.js';
import { RegistryCodec } from './registry-codec.js';
import { JsonCodec } from './json-codec.js';
import { UnknownWriterSchemaError } from './errors.js';
import { TOPIC_FORMATS, type TopicFormat } from './formats.js';

/** What `encode` returns: the record value and the headers to send with it. */
export interface EncodedValue {
  readonly value: Buffer;
  /** Header values may be shared between records: do not mutate them. */
  readonly headers: Record<string, Buffer>;
}

export interface TopicSerde<T> {
  readonly contract: Contract<T>;
  /** plain: format `avro`; registry: format `avro-confluent`; json: format `json`. */
  readonly mode: 'plain' | 'registry' | 'json';
  /** Once, before the first encode: registers or looks up the writer schema (registry mode; no-op in plain mode). */
  prepare(): Promise<void>;
  /** Encodes a value; throws SchemaValidationError, naming each invalid field, and writes nothing if it is invalid. */
  encode(value: T): EncodedValue;
  /**
   * Decodes a record value. Throws SchemaDecodeError for bytes that cannot be this contract (a poison
   * record: dead-letter it), and in registry mode UnknownWriterSchemaError for a writer id not fetched
   * yet (await `resolveWriter(bytes)`, then decode again).
   */
  decode(bytes: Buffer, headers: Readonly<Record<string, Buffer>>): T;
  /** Registry mode: fetches the writer schema that `bytes` names. Plain mode: resolves at once. */
  resolveWriter(bytes: Buffer): Promise<void>;
}

export interface SchemaRegistryOptions {
  /** Registry URL(s), comma-separated (SCHEMA_REGISTRY_URL). `mock://<name>` gives the client's in-memory mock. */
  readonly url?: string;
  /** A ready client instead of a URL (tests, custom auth). */
  readonly client?: Client;
  /** Subject of the writer schema. Default: `<topic>-value` (Confluent's TopicNameStrategy). */
  readonly subject?: string;
  /** Register the writer schema if missing (default true); false requires it registered already. */
  readonly autoRegister?: boolean;
}

export interface TopicSerdeOptions<T> {
  /** The topic's contract, e.g. `MentionContract` from schemas/index.ts. */
  readonly contract: Contract<T>;
  /** Topic name: names the registry subject `<topic>-value`. Required in registry mode unless `subject` is given. */
  readonly topic?: string;
  /** The registry, for format `avro-confluent`. See {@link schemaRegistryFromEnv}. */
  readonly schemaRegistry?: SchemaRegistryOptions;
  /** The topic's format. Default: `avro-confluent` when `schemaRegistry` is set, else `avro`. */
  readonly format?: TopicFormat;
  /** Format `avro`: the writer version of records without `sp-schema` headers. Default: the newest. */
  readonly headerlessWriterVersion?: number;
  /** The topic's role in its topology (`input`, an output, `dlq`): dead-letter reasons name `--format <role>=…`. */
  readonly role?: string;
  /** Initial size of the reused encode buffer, bytes (default 1024; grows as needed). */
  readonly initialEncodeBufferBytes?: number;
}

/** Creates the serde for one topic. Checks options now; makes no network calls (see `prepare`). */
export function createTopicSerde<T>(options: TopicSerdeOptions<T>): TopicSerde<T> {
  const { contract, schemaRegistry: registry, initialEncodeBufferBytes } = options;
  if (contract === undefined || contract === null) {
    throw new TypeError('createTopicSerde: options.contract is required (e.g. MentionContract from schemas/index.ts)');
  }
  if (initialEncodeBufferBytes !== undefined && !(Number.isInteger(initialEncodeBufferBytes) && initialEncodeBufferBytes > 0)) {
    throw new TypeError(`createTopicSerde: initialEncodeBufferBytes must be a positive integer, got ${initialEncodeBufferBytes}`);
  }
  const format = options.format ?? (registry === undefined ? 'avro' : 'avro-confluent');
  if (!TOPIC_FORMATS.includes(format)) {
    throw new TypeError(`createTopicSerde(${contract.name}): format must be one of ${TOPIC_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  }
  const role = options.role ?? options.topic ?? '<role>';
  if (format === 'json') return new JsonCodec(contract, role);
  if (format === 'avro') {
    return new PlainCodec(contract, {
      role,
      ...(initialEncodeBufferBytes === undefined ? {} : { initialEncodeBufferBytes }),
      ...(options.headerlessWriterVersion === undefined ? {} : { headerlessWriterVersion: options.headerlessWriterVersion }),
    });
  }
  if (registry === undefined) {
    throw new TypeError(`createTopicSerde(${contract.name}): format avro-confluent needs a schema registry (SCHEMA_REGISTRY_URL / --schema-registry)`);
  }

  const subject = registry.subject ?? (options.topic ? `${options.topic}-value` : undefined);
  if (!subject) {
    throw new TypeError(`createTopicSerde(${contract.name}): registry mode needs options.topic (subject <topic>-value) or schemaRegistry.subject`);
  }
  let client: Client | (() => Promise<Client>);
  if (registry.client) {
    client = registry.client;
  } else if (registry.url) {
    const baseURLs = registry.url.split(',').map((u) => u.trim()).filter((u) => u.length > 0);
    for (const url of baseURLs) {
      if (!/^(https?|mock):\/\/./.test(url)) {
        throw new TypeError(`createTopicSerde: schemaRegistry.url must be http(s)://host:port (or mock://name), got ${JSON.stringify(url)}`);
      }
    }
    // Loaded on first use, by registry-mode runs only: the package's one public entry point pulls in
    // every cloud KMS SDK it supports (measured: ≈ 1.2 s to load on an idle 2-core machine, against
    // ≈ 0.25 s for the client module alone), which runs without a registry should not pay.
    client = async () => {
      const { SchemaRegistryClient } = await import('@confluentinc/schemaregistry');
      return SchemaRegistryClient.newClient({ baseURLs });
    };
  } else {
    throw new TypeError(`createTopicSerde(${contract.name}): schemaRegistry needs a url or a client`);
  }
  return new RegistryCodec(contract, {
    role,
    client,
    subject,
    autoRegister: registry.autoRegister ?? true,
    ...(initialEncodeBufferBytes === undefined ? {} : { initialEncodeBufferBytes }),
  });
}

/** Registry options from the environment: `{ url }` when SCHEMA_REGISTRY_URL is set, else undefined (plain mode). */
export function schemaRegistryFromEnv(env: NodeJS.ProcessEnv = process.env): SchemaRegistryOptions | undefined {
  const url = env.SCHEMA_REGISTRY_URL?.trim();
  return url ? { url } : undefined;
}

/**
 * Decodes, fetching an unknown registry writer schema first. For callers off the hot path (CLI tools,
 * tests); the source should catch UnknownWriterSchemaError in its batch loop instead of awaiting per record.
 */
export async function decodeResolvingWriter<T>(serde: TopicSerde<T>, bytes: Buffer, headers: Readonly<Record<string, Buffer>>): Promise<T> {
  try {
    return serde.decode(bytes, headers);
  } catch (err) {
    if (!(err instanceof UnknownWriterSchemaError)) throw err;
    await serde.resolveWriter(bytes);
    return serde.decode(bytes, headers);
  }
}
