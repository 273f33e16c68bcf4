/**
 * The Avro codec between a topic's bytes and a contract's values, used by the Kafka source and sink.
 *
 * `encode` and `decode` are synchronous and allocate little (they run once per record); anything that
 * needs the network (the schema registry) happens in `prepare()` and `resolveWriter()`.
 *
 * Two modes:
 * - plain (default): plain Avro binary; headers `sp-schema` (full Avro name) and `sp-schema-version`.
 * - registry (when a schema registry is configured, e.g. SCHEMA_REGISTRY_URL): the Confluent wire
 *   format (magic byte 0 + 4-byte schema id + Avro) that Redpanda's built-in registry expects.
 *
 * Values are avsc's default representation: longs (and timestamp-millis) as JS numbers, bytes as
 * Buffers, unions unwrapped (`string | null`). Known limit of avsc 5.7.9: a long is exact within
 * ±2^52; avsc writes negative longs down to -(2^53 - 2) but reads those below -2^52 back off by one.
 */
import type { Client } from '@confluentinc/schemaregistry';
import type { Contract } from '../../schemas/index.js';
import { PlainCodec } from './plain-codec.js';
import { RegistryCodec } from './registry-codec.js';
import { UnknownWriterSchemaError } from './errors.js';

/** What `encode` returns: the record value and the headers to send with it. */
export interface EncodedValue {
  readonly value: Buffer;
  /** Header values may be shared between records: do not mutate them. */
  readonly headers: Record<string, Buffer>;
}

export interface TopicSerde<T> {
  readonly contract: Contract<T>;
  readonly mode: 'plain' | 'registry';
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
  /** Registry mode when set; plain mode when undefined. See {@link schemaRegistryFromEnv}. */
  readonly schemaRegistry?: SchemaRegistryOptions;
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
  if (registry === undefined) return new PlainCodec(contract, initialEncodeBufferBytes);

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
    // Loaded on first use: the package's index pulls in every cloud KMS SDK (~0.9 s); the client alone ~0.1 s.
    client = async () => {
      const { SchemaRegistryClient } = await import('@confluentinc/schemaregistry/dist/schemaregistry-client.js');
      return SchemaRegistryClient.newClient({ baseURLs });
    };
  } else {
    throw new TypeError(`createTopicSerde(${contract.name}): schemaRegistry needs a url or a client`);
  }
  return new RegistryCodec(contract, {
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
