/**
 * Turns avsc's `isValid` error hook into field paths a person can read:
 * `mention.direction: "UP" is not one of HIGH, LOW, SHIFT`.
 */
import avro from 'avsc';
import type { ValidationIssue } from './errors.js';

interface InternalType {
  typeName: string;
  name?: string;
  symbols?: string[];
  types?: InternalType[];
  itemsType?: InternalType;
  valuesType?: InternalType;
  underlyingType?: InternalType;
  size?: number;
}

/** Every field of `value` that does not match `type`, with its path rooted at `rootName`. */
export function findInvalidFields(type: avro.Type, value: unknown, rootName: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  try {
    type.isValid(value, {
      errorHook: (path, invalid, fieldType) => {
        issues.push({
          path: renderPath(type as unknown as InternalType, path, rootName),
          value: invalid,
          expected: expectation(fieldType as unknown as InternalType),
        });
      },
    });
  } catch (error) {
    // avsc's checks coerce values (`val === (val | 0)`), so an object whose toString/valueOf is not a
    // function makes isValid itself throw: that value is invalid too, and must not be written.
    issues.push({ path: rootName, value, expected: `a value avsc can check (its check threw: ${(error as Error).message})` });
  }
  return issues;
}

/** `mention` + ['evidence_event_ids', '3'] → `mention.evidence_event_ids[3]`; map keys as `["key"]`. */
function renderPath(root: InternalType, path: readonly string[], rootName: string): string {
  let text = rootName;
  let type: InternalType | undefined = root;
  for (const segment of path) {
    type = unwrap(type);
    if (type?.typeName === 'array') {
      text += `[${segment}]`;
      type = type.itemsType;
    } else if (type?.typeName === 'map') {
      text += `[${JSON.stringify(segment)}]`;
      type = type.valuesType;
    } else {
      text += `.${segment}`;
      const field: { type: InternalType } | undefined = (type as unknown as avro.types.RecordType | undefined)
        ?.fields?.find((f) => f.name === segment) as unknown as { type: InternalType } | undefined;
      type = field?.type;
    }
  }
  return text;
}

/** Logical types and single-record unions: step through to what the path walks into. */
function unwrap(type: InternalType | undefined): InternalType | undefined {
  if (type?.underlyingType) return unwrap(type.underlyingType);
  if (type?.types) return type.types.find((t) => t.typeName !== 'null');
  return type;
}

/** What a type accepts, in words. */
function expectation(type: InternalType): string {
  switch (type.typeName) {
    case 'enum':
      return `one of ${(type.symbols ?? []).join(', ')}`;
    case 'union:unwrapped':
    case 'union:wrapped':
      return `any of ${(type.types ?? []).map((t) => t.name ?? t.typeName).join(', ')}`;
    case 'int':
      return 'an int (a 32-bit integer)';
    case 'long':
      return 'a long (an integer within ±2^53)';
    case 'float':
    case 'double':
      return `a ${type.typeName} (a number)`;
    case 'string':
      return 'a string';
    case 'boolean':
      return 'a boolean';
    case 'null':
      return 'null';
    case 'bytes':
      return 'bytes (a Buffer)';
    case 'fixed':
      return `a Buffer of exactly ${type.size ?? '?'} bytes`;
    case 'array':
      return 'an array';
    case 'map':
      return 'a map (a plain object)';
    case 'record':
    case 'error':
      return `a ${type.name ?? 'record'} object`;
    default:
      return type.underlyingType ? expectation(type.underlyingType) : `a ${type.typeName}`;
  }
}
