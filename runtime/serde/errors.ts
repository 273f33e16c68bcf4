/**
 * What the serde throws. Each error says what was wrong and what was expected, so that a dead letter
 * carrying its message is enough to act on.
 */

/** The bytes (or their schema headers) cannot be read as the reader's contract. A poison record: dead-letter it. */
export class SchemaDecodeError extends Error {
  override readonly name = 'SchemaDecodeError';
  constructor(
    /** Full Avro name of the reader contract. */
    readonly contract: string,
    /** What was wrong and what was expected. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot decode ${contract}: ${reason}`, options);
  }
}

/** One field of a value that does not match its schema. */
export interface ValidationIssue {
  /** Field path from the record, e.g. `mention.evidence_event_ids[3]`. */
  readonly path: string;
  /** The offending value. */
  readonly value: unknown;
  /** What the schema accepts there, e.g. `one of HIGH, LOW, SHIFT`. */
  readonly expected: string;
}

/** A value given to `encode` does not match the contract; nothing was written. A bug in the step that made it. */
export class SchemaValidationError extends Error {
  override readonly name = 'SchemaValidationError';
  constructor(
    readonly contract: string,
    readonly issues: readonly ValidationIssue[],
  ) {
    super(
      `invalid ${contract}: ` +
        issues.map((i) => `${i.path}: ${describeValue(i.value)} is not ${i.expected}`).join('; '),
    );
  }
}

/**
 * Registry mode: the record names a writer schema id this serde has not fetched yet. Not a poison
 * record: `await serde.resolveWriter(bytes)` once, then decode again (the hot path stays synchronous).
 */
export class UnknownWriterSchemaError extends Error {
  override readonly name = 'UnknownWriterSchemaError';
  constructor(
    readonly contract: string,
    /** Schema registry id found in the record's wire-format prefix. */
    readonly schemaId: number,
  ) {
    super(`${contract}: writer schema id ${schemaId} not fetched yet; await resolveWriter(bytes) and decode again`);
  }
}

const MAX_VALUE_CHARS = 60;

/** A short, unambiguous rendering of a value for error messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined (missing)';
  if (Buffer.isBuffer(value)) return `<Buffer ${value.length} bytes>`;
  let text: string;
  try {
    text = typeof value === 'bigint' ? `${value}n` : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  if (typeof value === 'number' && !Number.isFinite(value)) text = String(value);
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}…` : text;
}
