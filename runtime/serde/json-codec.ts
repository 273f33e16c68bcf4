/**
 * JSON mode (format `json`): the value is a UTF-8 JSON object, as many producers write to Redpanda
 * and Kafka without any schema tooling. The topic's Avro contract still governs it: a decoded object
 * is checked with avsc's `isValid` (its error hook names every failing field path), fields the
 * contract gives a default may be missing, and fields it does not declare are dropped — so a step
 * sees exactly the shape an Avro record of the newest version would have.
 *
 * JSON has no bytes type, so a contract with `bytes` or `fixed` fields (the dead-letter record)
 * cannot use this format. Longs are exact within ±2^53, as everywhere in the serde.
 */
import type avro from 'avsc';
import type { Contract } from '../../schemas/index.js';
import { parseGuardedType } from './bounded-blocks.js';
import { describeValue, SchemaDecodeError, SchemaValidationError } from './errors.js';
import { recogniseFormat } from './formats.js';
import { findInvalidFields } from './validation.js';
import type { EncodedValue, TopicSerde } from './topic-serde.js';

const NO_HEADERS: Record<string, Buffer> = Object.freeze({}) as Record<string, Buffer>;
/** Issues listed in one dead-letter reason; the rest are counted. */
const MAX_LISTED_ISSUES = 5;

export class JsonCodec<T> implements TopicSerde<T> {
  readonly mode = 'json' as const;
  private readonly reader: avro.Type;
  private readonly rootName: string;

  constructor(
    readonly contract: Contract<T>,
    /** The topic's role in its topology, for the settings dead letters name. */
    private readonly role = '<role>',
  ) {
    const binary = binaryFieldOf(contract.schema, new Set());
    if (binary !== null) {
      throw new TypeError(`${contract.name}: format json cannot carry its ${binary} field (bytes or fixed have no JSON form); use avro or avro-confluent for this topic`);
    }
    this.reader = parseGuardedType(contract.schema);
    const simpleName = contract.name.slice(contract.name.lastIndexOf('.') + 1);
    this.rootName = simpleName.charAt(0).toLowerCase() + simpleName.slice(1);
  }

  prepare(): Promise<void> {
    return Promise.resolve();
  }

  resolveWriter(): Promise<void> {
    return Promise.resolve();
  }

  encode(value: T): EncodedValue {
    const issues = findInvalidFields(this.reader, value, this.rootName);
    if (issues.length > 0) throw new SchemaValidationError(this.contract.name, issues);
    let nonFinite = false;
    const text = JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'number' && !Number.isFinite(v)) nonFinite = true;
      return v;
    });
    if (nonFinite) {
      // JSON.stringify would write null, which no reader of the contract accepts: refuse, by path.
      const paths = nonFinitePaths(value, this.rootName, []);
      throw new SchemaValidationError(this.contract.name, paths.map(([path, v]) => ({ path, value: v, expected: 'a finite number (JSON has no NaN or Infinity)' })));
    }
    return { value: Buffer.from(text), headers: NO_HEADERS };
  }

  decode(bytes: Buffer, headers: Readonly<Record<string, Buffer>>): T {
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      const recognised = recogniseFormat(bytes, headers, 'json', this.role);
      throw new SchemaDecodeError(
        this.contract.name,
        `not JSON (${(error as Error).message})` + (recognised === '' ? `; expected a JSON object with the fields of ${this.contract.name}` : `: ${recognised}`),
        { cause: error },
      );
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new SchemaDecodeError(this.contract.name, `JSON value is ${describeValue(parsed)}; expected an object with the fields of ${this.contract.name}`);
    }
    const issues = findInvalidFields(this.reader, parsed, this.rootName);
    if (issues.length > 0) {
      const listed = issues.slice(0, MAX_LISTED_ISSUES).map((i) => `${i.path}: ${describeValue(i.value)} is not ${i.expected}`);
      if (issues.length > MAX_LISTED_ISSUES) listed.push(`and ${issues.length - MAX_LISTED_ISSUES} more`);
      throw new SchemaDecodeError(this.contract.name, `JSON does not match ${this.contract.name} v${this.contract.version}: ${listed.join('; ')}`);
    }
    // clone fills the defaults of missing fields and drops undeclared ones: the shape of an Avro decode.
    return this.reader.clone(parsed) as T;
  }
}

/** Every path in `value` holding NaN or ±Infinity. */
function nonFinitePaths(value: unknown, path: string, found: [string, number][]): [string, number][] {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) found.push([path, value]);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => nonFinitePaths(item, `${path}[${i}]`, found));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) nonFinitePaths(item, `${path}.${key}`, found);
  }
  return found;
}

/** The path of the first `bytes` or `fixed` field of a schema, or null. */
function binaryFieldOf(schema: unknown, seen: Set<unknown>, path = ''): string | null {
  if (typeof schema === 'string') return schema === 'bytes' ? path || 'value' : null;
  if (Array.isArray(schema)) {
    for (const branch of schema) {
      const found = binaryFieldOf(branch, seen, path);
      if (found !== null) return found;
    }
    return null;
  }
  if (schema === null || typeof schema !== 'object' || seen.has(schema)) return null;
  seen.add(schema);
  const s = schema as { type?: unknown; fields?: { name: string; type: unknown }[]; items?: unknown; values?: unknown };
  if (s.type === 'fixed' || s.type === 'bytes') return path || 'value';
  if (s.type === 'record' || s.type === 'error') {
    for (const field of s.fields ?? []) {
      const found = binaryFieldOf(field.type, seen, path ? `${path}.${field.name}` : field.name);
      if (found !== null) return found;
    }
    return null;
  }
  if (s.type === 'array') return binaryFieldOf(s.items, seen, `${path}[]`);
  if (s.type === 'map') return binaryFieldOf(s.values, seen, `${path}{}`);
  return binaryFieldOf(s.type, seen, path);
}
