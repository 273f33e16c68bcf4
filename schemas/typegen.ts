/**
 * Generates TypeScript types from the Avro contracts, so that the `.avsc` files stay the single source
 * of truth: `npm run schemas:types` writes `schemas/types.generated.ts`, and a test regenerates it in
 * memory and fails when the committed file differs.
 *
 * Only the newest version of each contract gets types: that is the shape readers see, because older
 * writers are resolved into it on decode.
 *
 * Mapping (what avsc produces and accepts with default options): null → null; boolean → boolean;
 * int, long (also timestamp-millis), float, double → number; string → string; bytes, fixed → Buffer;
 * array → T[]; map → Record<string, T>; enum → union of string literals; record → interface;
 * union → T1 | T2 (avsc's unwrapped unions, the default).
 */
import type { ContractVersions } from './catalog.js';

interface JsonObject {
  readonly [key: string]: unknown;
}

const PRIMITIVES: Readonly<Record<string, string>> = {
  null: 'null',
  boolean: 'boolean',
  int: 'number',
  long: 'number',
  float: 'number',
  double: 'number',
  bytes: 'Buffer',
  string: 'string',
};

/** Emits named types (records, enums) once, in dependency order, and turns schemas into TS type text. */
class TypeEmitter {
  private readonly declared = new Map<string, string>(); // full Avro name → TS name
  readonly declarations: string[] = [];

  /** Returns the TS type expression for `schema`, declaring named types it meets on the way. */
  typeOf(schema: unknown, namespace: string | undefined, where: string): string {
    if (typeof schema === 'string') {
      const primitive = PRIMITIVES[schema];
      if (primitive !== undefined) return primitive;
      const named = this.declared.get(qualify(schema, namespace)) ?? this.declared.get(schema);
      if (named === undefined) throw new Error(`${where}: unknown type reference ${JSON.stringify(schema)}`);
      return named;
    }
    if (Array.isArray(schema)) {
      // `T | null` reads better than `null | T`; the branch order carries no meaning in TypeScript.
      const branches = schema.map((branch, i) => this.typeOf(branch, namespace, `${where}[${i}]`));
      return [...branches.filter((b) => b !== 'null'), ...branches.filter((b) => b === 'null')].join(' | ');
    }
    if (schema === null || typeof schema !== 'object') {
      throw new Error(`${where}: expected an Avro schema, got ${JSON.stringify(schema)}`);
    }
    const obj = schema as JsonObject;
    switch (obj.type) {
      case 'record':
      case 'error':
        return this.declareRecord(obj, namespace, where);
      case 'enum':
        return this.declareEnum(obj, namespace);
      case 'array':
        return `${parenthesize(this.typeOf(obj.items, namespace, `${where}.items`))}[]`;
      case 'map':
        return `Record<string, ${this.typeOf(obj.values, namespace, `${where}.values`)}>`;
      case 'fixed':
        this.declared.set(qualify(String(obj.name), stringOr(obj.namespace, namespace)), 'Buffer');
        return 'Buffer';
      default:
        // A primitive spelled as an object, possibly with a logical type (timestamp-millis on long).
        return this.typeOf(obj.type, namespace, where);
    }
  }

  private declareRecord(obj: JsonObject, outerNamespace: string | undefined, where: string): string {
    const namespace = stringOr(obj.namespace, outerNamespace);
    const name = String(obj.name);
    const tsName = shortName(name);
    this.declared.set(qualify(name, namespace), tsName);
    const recordNamespace = fullNamespace(name, namespace);
    const fields = Array.isArray(obj.fields) ? (obj.fields as JsonObject[]) : [];
    const lines = fields.map((field) => {
      const fieldName = String(field.name);
      const type = this.typeOf(field.type, recordNamespace, `${where}.${fieldName}`);
      return `${docComment(field.doc, '  ')}  readonly ${fieldName}: ${type};`;
    });
    this.declarations.push(`${docComment(obj.doc, '')}export interface ${tsName} {\n${lines.join('\n')}\n}`);
    return tsName;
  }

  private declareEnum(obj: JsonObject, outerNamespace: string | undefined): string {
    const namespace = stringOr(obj.namespace, outerNamespace);
    const name = String(obj.name);
    const tsName = shortName(name);
    this.declared.set(qualify(name, namespace), tsName);
    const symbols = (obj.symbols as unknown[]).map((s) => `'${String(s)}'`).join(' | ');
    this.declarations.push(`${docComment(obj.doc, '')}export type ${tsName} = ${symbols};`);
    return tsName;
  }
}

/** The text of `schemas/types.generated.ts` for the given contracts. */
export function generateTypes(contracts: readonly ContractVersions[], command = 'npm run schemas:types'): string {
  const emitter = new TypeEmitter();
  const byName: string[] = [];
  for (const contract of contracts) {
    const newest = contract.versions[contract.versions.length - 1]!;
    const tsName = emitter.typeOf(newest.schema, undefined, `${contract.folder}/v${newest.version}.avsc`);
    byName.push(`  '${contract.name}': ${tsName};`);
  }
  return [
    `// Generated by \`${command}\` from schemas/<contract>/v<N>.avsc (newest version of each).`,
    command === 'npm run schemas:types'
      ? '// Do not edit: change the .avsc and regenerate; test/schemas checks that this file is up to date.'
      : '// Do not edit: change the .avsc and regenerate.',
    '',
    ...emitter.declarations.flatMap((d) => [d, '']),
    '/** Each contract\'s TypeScript type, by its full Avro name. */',
    'export interface ContractTypes {',
    ...byName,
    '}',
    '',
  ].join('\n');
}

function qualify(name: string, namespace: string | undefined): string {
  return name.includes('.') || !namespace ? name : `${namespace}.${name}`;
}

function fullNamespace(name: string, namespace: string | undefined): string | undefined {
  const dot = name.lastIndexOf('.');
  return dot >= 0 ? name.slice(0, dot) : namespace;
}

function shortName(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

function stringOr(value: unknown, fallback: string | undefined): string | undefined {
  return typeof value === 'string' ? value : fallback;
}

function parenthesize(type: string): string {
  return type.includes('|') ? `(${type})` : type;
}

function docComment(doc: unknown, indent: string): string {
  if (typeof doc !== 'string' || doc.length === 0) return '';
  return `${indent}/** ${doc.replace(/\*\//g, '*\\/')} */\n`;
}
