/**
 * The topic contracts: for each topic value type, its full Avro name, its versions (newest last), the
 * parsed avsc types and — through a type parameter — its TypeScript type, generated from the same
 * `.avsc` files (schemas/types.generated.ts), so the schema and the type cannot drift.
 *
 * Other tools read and write these topics, so names, fields and default topics are part of the
 * public contract (issue 3, "Contracts"). Change a schema only by adding `v<N+1>.avsc` that
 * `npm run schemas:check` accepts, then `npm run schemas:types`.
 */
import { fileURLToPath } from 'node:url';
import type avro from 'avsc';
import { readSchemaCatalog, type ContractVersions, type SchemaVersion } from './catalog.js';
import type { ContractTypes, DeadLetter, InferenceEvent, Label, Mention } from './types.generated.js';

export type * from './types.generated.js';
export { readSchemaCatalog, type ContractVersions, type SchemaVersion } from './catalog.js';

/** One topic value type. `T` is its TypeScript type (phantom: carried for the serde's signatures). */
export interface Contract<T> {
  /** Full Avro name, e.g. `dev.signalpath.Mention`; written in the `sp-schema` header. */
  readonly name: string;
  /** Folder under schemas/, e.g. `mention`. */
  readonly folder: string;
  /** The newest version number: what writers write and readers resolve into. */
  readonly version: number;
  /** avsc type of the newest version. */
  readonly type: avro.Type;
  /** Schema JSON of the newest version, as in its file (docs and logical types kept). */
  readonly schema: avro.Schema;
  /** Every version, ascending; the last is the newest. */
  readonly versions: readonly SchemaVersion[];
  /** Field whose value is the default Kafka record key, when the topic has one. */
  readonly keyField: string | null;
  /** Never set; only carries `T`. */
  readonly __type?: T;
}

/** The TypeScript type of a contract. */
export type ContractValue<C> = C extends Contract<infer T> ? T : never;

/** Default topic names (every topic name is configurable; these are what other tools expect). */
export const DEFAULT_TOPICS = {
  inferenceEvents: 'inference-events',
  mentions: 'mentions',
  /** Fast-lane copies of mentions sent to humans for immediate labelling. */
  mentionsReview: 'mentions.review',
  labels: 'labels',
} as const;

/** Default dead-letter topic of a topology: `<topology>.dlq`. */
export function deadLetterTopic(topologyName: string): string {
  return `${topologyName}.dlq`;
}

/** Folder holding the `.avsc` files of the contracts below. */
export const SCHEMAS_DIR = fileURLToPath(new URL('./', import.meta.url));

const catalog = new Map(readSchemaCatalog(SCHEMAS_DIR).map((c) => [c.name, c]));

function contract<N extends keyof ContractTypes>(
  name: N,
  keyField: (keyof ContractTypes[N] & string) | null,
): Contract<ContractTypes[N]> {
  const versions: ContractVersions | undefined = catalog.get(name);
  if (versions === undefined) {
    throw new Error(`schemas: no .avsc declares ${name} under ${SCHEMAS_DIR}; run npm run schemas:types after renaming`);
  }
  return contractFrom<ContractTypes[N]>(versions, keyField);
}

/**
 * A contract from versions read with `readSchemaCatalog` — for the contracts below, and for tools and
 * tests that work on another schemas folder. `T` is the caller's word: nothing checks it here.
 */
export function contractFrom<T>(versions: ContractVersions, keyField: string | null = null): Contract<T> {
  const newest = versions.versions[versions.versions.length - 1]!;
  return Object.freeze({
    name: versions.name,
    folder: versions.folder,
    version: newest.version,
    type: newest.type,
    schema: newest.schema,
    versions: versions.versions,
    keyField,
  });
}

/**
 * A contract of your own, from a schemas folder laid out as ours (`<schemasDir>/<folder>/v<N>.avsc`):
 * how a project that depends on signalpath declares its event types. `T` is the record's TypeScript
 * type (generate it with `signalpath schemas types`); `keyField` names the field whose value is the
 * default Kafka record key.
 *
 * ```ts
 * import type { PageView } from '../../schemas/types.generated.ts';
 * export const PageViewContract = contractIn<PageView>(new URL('../../schemas/', import.meta.url), 'page-view', 'user_id');
 * ```
 */
export function contractIn<T>(schemasDir: string | URL, folder: string, keyField: string | null = null): Contract<T> {
  const dir = typeof schemasDir === 'string' ? schemasDir : fileURLToPath(schemasDir);
  const versions = readSchemaCatalog(dir).find((c) => c.folder === folder);
  if (versions === undefined) throw new Error(`schemas: no contract folder ${folder}/ with a v<N>.avsc under ${dir}`);
  if (keyField !== null && !(versions.versions.at(-1)!.schema as { fields?: { name: string }[] }).fields?.some((f) => f.name === keyField)) {
    throw new Error(`schemas: keyField ${JSON.stringify(keyField)} is not a field of ${versions.name} (${folder}/v${versions.versions.at(-1)!.version}.avsc)`);
  }
  return contractFrom<T>(versions, keyField);
}

export const InferenceEventContract: Contract<InferenceEvent> = contract('dev.signalpath.InferenceEvent', 'model_id');
export const MentionContract: Contract<Mention> = contract('dev.signalpath.Mention', 'model_id');
export const LabelContract: Contract<Label> = contract('dev.signalpath.Label', 'mention_id');
export const DeadLetterContract: Contract<DeadLetter> = contract('dev.signalpath.DeadLetter', null);

/** Every contract, by full Avro name. */
export const CONTRACTS: ReadonlyMap<string, Contract<unknown>> = new Map<string, Contract<unknown>>(
  [InferenceEventContract, MentionContract, LabelContract, DeadLetterContract].map((c) => [c.name, c as Contract<unknown>]),
);

/** Looks a contract up by full Avro name (`dev.signalpath.Mention`) or folder (`mention`). */
export function findContract(nameOrFolder: string): Contract<unknown> | undefined {
  const byName = CONTRACTS.get(nameOrFolder);
  if (byName) return byName;
  for (const c of CONTRACTS.values()) if (c.folder === nameOrFolder) return c;
  return undefined;
}
