/** The encode and decode steps both modes share: validation errors with field paths, strict decoding. */
import type avro from 'avsc';
import type { ReusableAvroWriter } from './avro-writer.js';
import { SchemaDecodeError, SchemaValidationError } from './errors.js';
import { findInvalidFields } from './validation.js';

/**
 * Writes `value`, or throws a SchemaValidationError naming every invalid field.
 *
 * Why no `isValid` before writing: avsc's writers check every value they write (type, int range,
 * safe long, enum symbol, Buffer, fixed size) and throw on the first mismatch, so an invalid value is
 * never written; test/schemas checks this against `isValid` on random corruptions. So `isValid` runs
 * only after a failure, to name every failing path. (Measured on an InferenceEvent: encode ≈ 650 ns,
 * isValid ≈ 50 ns — cheap, but it would only repeat checks the writer already makes.)
 */
export function encodeChecked(writer: ReusableAvroWriter, type: avro.Type, value: unknown, contractName: string): Buffer {
  try {
    return writer.write(value);
  } catch (err) {
    const rootName = lowerFirst(contractName.slice(contractName.lastIndexOf('.') + 1));
    const issues = findInvalidFields(type, value, rootName);
    if (issues.length === 0) {
      // avsc refused a value its own isValid accepts: report it rather than guess.
      issues.push({ path: rootName, value, expected: `encodable: ${(err as Error).message}` });
    }
    throw new SchemaValidationError(contractName, issues);
  }
}

/**
 * Reads one value from `bytes` starting at `offset`, requiring that it ends exactly at the end of the
 * buffer: trailing bytes mean the bytes were written with a different schema.
 */
export function decodeFully(
  type: avro.Type,
  bytes: Buffer,
  offset: number,
  resolver: avro.Resolver | undefined,
  contractName: string,
  /** Which writer schema, for messages: `v1`, `schema id 7`. */
  writer: string,
): unknown {
  let result: { value: unknown; offset: number };
  try {
    result = type.decode(bytes, offset, resolver);
  } catch (err) {
    throw new SchemaDecodeError(contractName, `malformed Avro for ${contractName} (written as ${writer}): ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (result.offset < 0) {
    throw new SchemaDecodeError(
      contractName,
      `truncated Avro: ${bytes.length - offset} bytes end before a whole ${contractName} (written as ${writer}) was read`,
    );
  }
  if (result.offset !== bytes.length) {
    throw new SchemaDecodeError(
      contractName,
      `${bytes.length - result.offset} trailing bytes after a whole ${contractName} (written as ${writer}): written with a different schema?`,
    );
  }
  return result.value;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
