/**
 * Registry mode: the Confluent wire format that Redpanda's and Confluent's schema registries expect —
 * magic byte 0, the writer schema's registry id (4 bytes, big-endian), then plain Avro binary.
 *
 * The registry is only asked for things off the hot path: `prepare()` registers (or looks up) the
 * writer schema once; a record from an unknown writer id makes `decode` throw
 * UnknownWriterSchemaError, and the caller awaits `resolveWriter(bytes)` once before decoding again.
 * Encode and decode themselves stay synchronous and make no requests.
 */
import avro from 'avsc';
import type { Client, SchemaInfo } from '@confluentinc/schemaregistry';
import type { Contract } from '../../schemas/index.js';
import { ReusableAvroWriter } from './avro-writer.js';
import { parseGuardedType } from './bounded-blocks.js';
import { decodeFully, encodeChecked } from './codec-shared.js';
import { SchemaDecodeError, UnknownWriterSchemaError } from './errors.js';
import type { EncodedValue, TopicSerde } from './topic-serde.js';
import { recogniseFormat } from './formats.js';

/** First byte of every Confluent wire-format record. */
export const WIRE_FORMAT_MAGIC_BYTE = 0;
/** Magic byte + 4-byte schema id. */
export const WIRE_FORMAT_HEADER_BYTES = 5;

/** Writer ids whose schema could not be used are remembered (so poison records fail fast), up to this many. */
const MAX_REMEMBERED_FAILURES = 1024;

type WriterReader = { readonly resolver: avro.Resolver | undefined } | { readonly error: string };

export interface RegistryCodecOptions {
  /** A registry client, or a function that makes one (called once, by `prepare`). */
  readonly client: Client | (() => Promise<Client>);
  /** Registry subject of the writer schema, e.g. `mentions-value`. */
  readonly subject: string;
  /** Register the writer schema when missing (true), or require it registered already (false). */
  readonly autoRegister: boolean;
  readonly initialEncodeBufferBytes?: number;
  /** The topic's role in its topology, for the settings dead letters name. */
  readonly role?: string;
}

export class RegistryCodec<T> implements TopicSerde<T> {
  readonly mode = 'registry' as const;
  private readonly reader: avro.Type;
  private readonly schemaInfo: SchemaInfo;
  private client: Client | undefined;
  private writer: ReusableAvroWriter | undefined;
  private writerId: number | undefined;
  private readonly byId = new Map<number, WriterReader>();
  private readonly failedIds: number[] = [];
  private readonly pending = new Map<number, Promise<void>>();

  constructor(
    readonly contract: Contract<T>,
    private readonly options: RegistryCodecOptions,
  ) {
    this.reader = parseGuardedType(contract.schema);
    this.schemaInfo = { schemaType: 'AVRO', schema: JSON.stringify(contract.schema) };
  }

  /** The registry id of this serde's writer schema (after `prepare`). */
  get schemaId(): number | undefined {
    return this.writerId;
  }

  async prepare(): Promise<void> {
    if (this.writerId !== undefined) return;
    const client = await this.getClient();
    const { subject } = this.options;
    let id: number;
    try {
      id = this.options.autoRegister
        ? await client.register(subject, this.schemaInfo, false)
        : await client.getId(subject, this.schemaInfo, false);
    } catch (err) {
      const action = this.options.autoRegister ? 'register' : 'find (autoRegister is off)';
      throw new Error(`schema registry: cannot ${action} ${this.contract.name} v${this.contract.version} under subject ${subject}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const prefix = Buffer.alloc(WIRE_FORMAT_HEADER_BYTES);
    prefix.writeUInt8(WIRE_FORMAT_MAGIC_BYTE, 0);
    prefix.writeUInt32BE(id, 1);
    this.writer = new ReusableAvroWriter(this.reader, prefix, this.options.initialEncodeBufferBytes);
    this.byId.set(id, { resolver: undefined });
    this.writerId = id;
  }

  encode(value: T): EncodedValue {
    if (this.writer === undefined) {
      throw new Error(`${this.contract.name}: registry-mode serde used before prepare(); await serde.prepare() once at start`);
    }
    // No headers: the schema id in the value says everything a registry-aware reader needs.
    return { value: encodeChecked(this.writer, this.reader, value, this.contract.name), headers: {} };
  }

  decode(bytes: Buffer, headers: Readonly<Record<string, Buffer>>): T {
    const id = this.writerIdOf(bytes, headers);
    const writer = this.byId.get(id);
    if (writer === undefined) throw new UnknownWriterSchemaError(this.contract.name, id);
    if ('error' in writer) throw new SchemaDecodeError(this.contract.name, writer.error);
    return decodeFully(this.reader, bytes, WIRE_FORMAT_HEADER_BYTES, writer.resolver, this.contract.name, `schema id ${id}`) as T;
  }

  /**
   * Fetches the writer schema named by `bytes` and prepares to read it. Resolves once `decode` of
   * these bytes can no longer throw UnknownWriterSchemaError (it may still throw SchemaDecodeError:
   * an id the registry does not know, or a writer schema that cannot be read as this contract).
   * Rejects only on failures worth retrying (registry unreachable).
   */
  resolveWriter(bytes: Buffer): Promise<void> {
    const id = this.writerIdOf(bytes);
    if (this.byId.has(id)) return Promise.resolve();
    let pending = this.pending.get(id);
    if (pending === undefined) {
      pending = this.fetchWriter(id).finally(() => this.pending.delete(id));
      this.pending.set(id, pending);
    }
    return pending;
  }

  private async fetchWriter(id: number): Promise<void> {
    const client = await this.getClient();
    let info: SchemaInfo;
    try {
      info = await client.getBySubjectAndId(this.options.subject, id);
    } catch (err) {
      if ((err as { status?: unknown }).status === 404) {
        return this.remember(id, { error: `writer schema id ${id} is not in the registry (subject ${this.options.subject})` });
      }
      throw err; // transient: the caller may retry
    }
    if (info.schemaType !== undefined && info.schemaType !== 'AVRO') {
      return this.remember(id, { error: `writer schema id ${id} is ${info.schemaType}, expected AVRO` });
    }
    try {
      const writerType = parseGuardedType(JSON.parse(info.schema) as avro.Schema);
      this.remember(id, { resolver: this.reader.createResolver(writerType) });
    } catch (err) {
      this.remember(id, {
        error: `writer schema id ${id} cannot be read as ${this.contract.name} v${this.contract.version}: ${(err as Error).message}`,
      });
    }
  }

  private remember(id: number, reader: WriterReader): void {
    if ('error' in reader) {
      this.failedIds.push(id);
      if (this.failedIds.length > MAX_REMEMBERED_FAILURES) this.byId.delete(this.failedIds.shift()!);
    }
    this.byId.set(id, reader);
  }

  private writerIdOf(bytes: Buffer, headers: Readonly<Record<string, Buffer>> = {}): number {
    if (bytes.length < WIRE_FORMAT_HEADER_BYTES || bytes[0] !== WIRE_FORMAT_MAGIC_BYTE) {
      const found =
        bytes.length < WIRE_FORMAT_HEADER_BYTES
          ? `${bytes.length} bytes is too short for the Confluent wire format (magic byte 0, 4-byte schema id, Avro)`
          : `first byte is 0x${bytes[0]!.toString(16).padStart(2, '0')}; expected the Confluent wire-format magic byte 0x00`;
      const recognised = recogniseFormat(bytes, headers, 'avro-confluent', this.options.role ?? '<role>');
      throw new SchemaDecodeError(
        this.contract.name,
        recognised === '' ? `${found} (does the producer write through the schema registry?)` : `${found}: ${recognised}`,
      );
    }
    return bytes.readUInt32BE(1);
  }

  private async getClient(): Promise<Client> {
    if (this.client === undefined) {
      const { client } = this.options;
      this.client = typeof client === 'function' ? await client() : client;
    }
    return this.client;
  }
}
