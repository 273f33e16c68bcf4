/**
 * Plain mode (format `avro`): the value is plain Avro binary. signalpath's writers put the contract's
 * full name and version in the record headers `sp-schema` and `sp-schema-version`; a reader resolves
 * any older version it knows into the newest (avsc `createResolver`), and rejects what it does not
 * know. A record without those headers comes from a producer outside signalpath: it is read as the
 * topic's declared contract, written with the version the run was told (`--input-writer-version`,
 * default the newest). Such a record that cannot be read is recognised when it is in another format
 * (formats.ts), so its dead letter names the setting to change.
 */
import avro from 'avsc';
import type { Contract } from '../../schemas/index.js';
import { parseGuardedType } from './bounded-blocks.js';
import { SchemaDecodeError } from './errors.js';
import { decodeFully, encodeChecked } from './codec-shared.js';
import { ReusableAvroWriter } from './avro-writer.js';
import type { EncodedValue, TopicSerde } from './topic-serde.js';
import { recogniseFormat, SCHEMA_HEADER, SCHEMA_VERSION_HEADER } from './formats.js';

export { SCHEMA_HEADER, SCHEMA_VERSION_HEADER } from './formats.js';

export interface PlainCodecOptions {
  readonly initialEncodeBufferBytes?: number;
  /** Writer version of records without `sp-schema` headers. Default: the contract's newest. */
  readonly headerlessWriterVersion?: number;
  /** The topic's role in its topology (`input`, an output, `dlq`), for the settings dead letters name. */
  readonly role?: string;
}

/** How to read one writer version: its resolver (none for the newest), or why it cannot be read. */
type WriterReader = { readonly resolver: avro.Resolver | undefined } | { readonly error: string };

export class PlainCodec<T> implements TopicSerde<T> {
  readonly mode = 'plain' as const;
  private readonly reader: avro.Type;
  private readonly writer: ReusableAvroWriter;
  private readonly nameBytes: Buffer;
  private readonly versionBytes: Buffer;
  private readonly byVersion = new Map<string, WriterReader>();
  private readonly knownVersions: string;
  private readonly headerlessVersion: string;
  private readonly role: string;

  constructor(
    readonly contract: Contract<T>,
    options: PlainCodecOptions = {},
  ) {
    this.reader = parseGuardedType(contract.schema);
    this.writer = new ReusableAvroWriter(this.reader, undefined, options.initialEncodeBufferBytes);
    this.role = options.role ?? '<role>';
    this.nameBytes = Buffer.from(contract.name);
    this.versionBytes = Buffer.from(String(contract.version));
    for (const v of contract.versions) {
      this.byVersion.set(String(v.version), this.readerFor(v.version, v.schema));
    }
    this.knownVersions = contract.versions.map((v) => v.version).join(', ');
    const headerless = options.headerlessWriterVersion ?? contract.version;
    if (!this.byVersion.has(String(headerless))) {
      throw new TypeError(`${contract.name}: the writer version of records without headers must be one of ${this.knownVersions}, got ${headerless}`);
    }
    this.headerlessVersion = String(headerless);
  }

  prepare(): Promise<void> {
    return Promise.resolve();
  }

  resolveWriter(): Promise<void> {
    return Promise.resolve(); // every writer version this reader can know is resolved at construction
  }

  encode(value: T): EncodedValue {
    return {
      value: encodeChecked(this.writer, this.reader, value, this.contract.name),
      // Shared Buffers: header values are never mutated by the Kafka client.
      headers: { [SCHEMA_HEADER]: this.nameBytes, [SCHEMA_VERSION_HEADER]: this.versionBytes },
    };
  }

  decode(bytes: Buffer, headers: Readonly<Record<string, Buffer>>): T {
    const name = headers[SCHEMA_HEADER];
    if (name === undefined) return this.decodeHeaderless(bytes, headers);
    if (!this.nameBytes.equals(name)) {
      throw new SchemaDecodeError(
        this.contract.name,
        `header ${SCHEMA_HEADER} is ${JSON.stringify(name.toString('utf8'))}; expected ${this.contract.name}`,
      );
    }
    const version = headers[SCHEMA_VERSION_HEADER];
    if (version === undefined) {
      throw new SchemaDecodeError(
        this.contract.name,
        `missing header ${SCHEMA_VERSION_HEADER}; expected one of versions ${this.knownVersions}`,
      );
    }
    if (this.versionBytes.equals(version)) {
      return decodeFully(this.reader, bytes, 0, undefined, this.contract.name, `v${this.contract.version}`) as T;
    }
    const versionText = version.toString('utf8');
    const writer = this.byVersion.get(versionText);
    if (writer === undefined) {
      throw new SchemaDecodeError(
        this.contract.name,
        `unknown ${SCHEMA_VERSION_HEADER} ${JSON.stringify(versionText)}; this reader knows versions ${this.knownVersions}` +
          (Number(versionText) > this.contract.version ? ' (written by a newer writer: upgrade this reader)' : ''),
      );
    }
    if ('error' in writer) throw new SchemaDecodeError(this.contract.name, writer.error);
    return decodeFully(this.reader, bytes, 0, writer.resolver, this.contract.name, `v${versionText}`) as T;
  }

  /** A record from a producer outside signalpath: the declared contract, at the configured writer version. */
  private decodeHeaderless(bytes: Buffer, headers: Readonly<Record<string, Buffer>>): T {
    const writer = this.byVersion.get(this.headerlessVersion)!;
    try {
      if ('error' in writer) throw new SchemaDecodeError(this.contract.name, writer.error);
      return decodeFully(this.reader, bytes, 0, writer.resolver, this.contract.name, `v${this.headerlessVersion}, no ${SCHEMA_HEADER} header`) as T;
    } catch (error) {
      const recognised = recogniseFormat(bytes, headers, 'avro', this.role);
      if (recognised === '' || !(error instanceof SchemaDecodeError)) throw error;
      throw new SchemaDecodeError(this.contract.name, `not plain Avro: ${recognised} (plain Avro read as v${this.headerlessVersion}: ${error.reason})`, { cause: error });
    }
  }

  private readerFor(version: number, schema: avro.Schema): WriterReader {
    if (version === this.contract.version) return { resolver: undefined };
    try {
      const writerType = parseGuardedType(schema);
      return { resolver: this.reader.createResolver(writerType) };
    } catch (err) {
      return {
        error: `version ${version} cannot be read as version ${this.contract.version}: ${(err as Error).message} (npm run schemas:check should have caught this)`,
      };
    }
  }
}
