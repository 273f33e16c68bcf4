/**
 * Plain mode: the value is plain Avro binary; the contract's full name and version travel in the
 * record headers `sp-schema` and `sp-schema-version`. A reader resolves any older version it knows
 * into the newest (avsc `createResolver`), and rejects what it does not know.
 */
import avro from 'avsc';
import type { Contract } from '../../schemas/index.js';
import { parseGuardedType } from './bounded-blocks.js';
import { SchemaDecodeError } from './errors.js';
import { decodeFully, encodeChecked } from './codec-shared.js';
import { ReusableAvroWriter } from './avro-writer.js';
import type { EncodedValue, TopicSerde } from './topic-serde.js';

/** Record header holding the contract's full Avro name, e.g. `dev.signalpath.Mention`. */
export const SCHEMA_HEADER = 'sp-schema';
/** Record header holding the writer's contract version as a decimal string, e.g. `1`. */
export const SCHEMA_VERSION_HEADER = 'sp-schema-version';

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

  constructor(
    readonly contract: Contract<T>,
    initialEncodeBufferBytes?: number,
  ) {
    this.reader = parseGuardedType(contract.schema);
    this.writer = new ReusableAvroWriter(this.reader, undefined, initialEncodeBufferBytes);
    this.nameBytes = Buffer.from(contract.name);
    this.versionBytes = Buffer.from(String(contract.version));
    for (const v of contract.versions) {
      this.byVersion.set(String(v.version), this.readerFor(v.version, v.schema));
    }
    this.knownVersions = contract.versions.map((v) => v.version).join(', ');
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
    if (name === undefined) {
      throw new SchemaDecodeError(this.contract.name, `missing header ${SCHEMA_HEADER}; expected ${SCHEMA_HEADER}=${this.contract.name}`);
    }
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
