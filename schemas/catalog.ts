/**
 * Reads a schemas folder into contracts: one sub-folder per topic value type, one `v<N>.avsc` per
 * version (`schemas/mention/v1.avsc`, `schemas/mention/v2.avsc`, ...).
 *
 * This is the one place that knows the folder layout; the contract registry (`schemas/index.ts`), the
 * type generator and the compatibility check all read through it, so they cannot disagree about which
 * files exist or which version is the newest.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import avro from 'avsc';

/** One version of one contract, as written in its `.avsc` file. */
export interface SchemaVersion {
  readonly version: number;
  /** Path of the `.avsc` file (for messages). */
  readonly file: string;
  /** The schema JSON exactly as parsed from the file (docs and logical types kept). */
  readonly schema: avro.Schema;
  /** The parsed avsc type. */
  readonly type: avro.Type;
}

/** All versions of one topic value type. */
export interface ContractVersions {
  /** Folder name, e.g. `mention`. */
  readonly folder: string;
  /** Full Avro name shared by every version, e.g. `dev.signalpath.Mention`. */
  readonly name: string;
  /** Ascending by version; never empty. */
  readonly versions: readonly SchemaVersion[];
}

const VERSION_FILE = /^v([1-9][0-9]*)\.avsc$/;

/** Reads every contract under `schemasDir`, sorted by folder name. Throws naming the file at fault. */
export function readSchemaCatalog(schemasDir: string): ContractVersions[] {
  const folders = readdirSync(schemasDir)
    .filter((entry) => statSync(join(schemasDir, entry)).isDirectory())
    .sort();
  const contracts: ContractVersions[] = [];
  for (const folder of folders) {
    const versions = readVersions(join(schemasDir, folder));
    if (versions.length === 0) continue; // not a contract folder
    const first = versions[0]!;
    for (const v of versions) {
      if (v.type.name !== first.type.name) {
        throw new Error(
          `${v.file}: record name ${String(v.type.name)} differs from ${String(first.type.name)} in ${first.file}; ` +
            'every version of a contract must keep its full name (namespace + name)',
        );
      }
    }
    if (first.type.name === undefined) {
      throw new Error(`${first.file}: a contract must be a named record, got ${first.type.typeName}`);
    }
    contracts.push({ folder, name: first.type.name, versions });
  }
  return contracts;
}

function readVersions(folder: string): SchemaVersion[] {
  const versions: SchemaVersion[] = [];
  for (const entry of readdirSync(folder)) {
    if (!entry.endsWith('.avsc')) continue;
    const file = join(folder, entry);
    const match = VERSION_FILE.exec(entry);
    if (!match) throw new Error(`${file}: a schema file must be named v<N>.avsc (v1.avsc, v2.avsc, ...)`);
    let schema: avro.Schema;
    try {
      schema = JSON.parse(readFileSync(file, 'utf8')) as avro.Schema;
    } catch (err) {
      throw new Error(`${file}: not valid JSON: ${(err as Error).message}`, { cause: err });
    }
    let type: avro.Type;
    try {
      // Without avsc's record methods: decoded records then deep-equal plain objects (see runtime/serde).
      type = avro.Type.forSchema(schema, { omitRecordMethods: true } as Partial<avro.ForSchemaOptions>);
    } catch (err) {
      throw new Error(`${file}: not a valid Avro schema: ${(err as Error).message}`, { cause: err });
    }
    if (type.typeName !== 'record') {
      throw new Error(`${file}: a contract must be a record, got ${type.typeName}`);
    }
    versions.push({ version: Number(match[1]), file, schema, type });
  }
  return versions.sort((a, b) => a.version - b.version);
}
