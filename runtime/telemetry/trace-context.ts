/**
 * W3C Trace Context (`traceparent`) in Kafka record headers: parse, format, and a cheap check on the
 * raw header bytes, plus an id generator that costs no randomness per record.
 *
 * Format (version 00): `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`, 55 characters,
 * lower-case hex; an all-zero trace id or parent id is invalid. Header values arrive as Buffers, so
 * {@link isTraceparent} checks the bytes without building a string (it runs once per input record).
 */
import { randomBytes } from 'node:crypto';

export const TRACEPARENT = 'traceparent';

export interface TraceContext {
  /** 32 lower-case hex characters, not all zero. */
  readonly traceId: string;
  /** 16 lower-case hex characters, not all zero: the span that produced the record. */
  readonly spanId: string;
  /** Trace flags; bit 0 = sampled. */
  readonly flags: number;
}

const TRACEPARENT_LENGTH = 55;
const DASH = 0x2d;

function isLowerHex(byte: number): boolean {
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66);
}

/**
 * The per-record check the source makes: length, version 00 and the three dashes (a few byte
 * compares). The hex digits are checked by {@link parseTraceparent} when a captured record's spans are
 * built; a header of the right shape with bad digits is passed on as it came.
 */
export function hasTraceparentShape(bytes: Buffer): boolean {
  return bytes.length === TRACEPARENT_LENGTH && bytes[0] === 0x30 && bytes[1] === 0x30 && bytes[2] === DASH && bytes[35] === DASH && bytes[52] === DASH;
}

/** True when `bytes` is a well-formed version-00 traceparent with non-zero ids. */
export function isTraceparent(bytes: Buffer): boolean {
  if (bytes.length !== TRACEPARENT_LENGTH || bytes[0] !== 0x30 || bytes[1] !== 0x30) return false;
  if (bytes[2] !== DASH || bytes[35] !== DASH || bytes[52] !== DASH) return false;
  let traceNonZero = false;
  for (let i = 3; i < 35; i++) {
    const byte = bytes[i]!;
    if (!isLowerHex(byte)) return false;
    if (byte !== 0x30) traceNonZero = true;
  }
  let spanNonZero = false;
  for (let i = 36; i < 52; i++) {
    const byte = bytes[i]!;
    if (!isLowerHex(byte)) return false;
    if (byte !== 0x30) spanNonZero = true;
  }
  return traceNonZero && spanNonZero && isLowerHex(bytes[53]!) && isLowerHex(bytes[54]!);
}

/** Parses a traceparent header (Buffer or string); null when it is malformed. */
export function parseTraceparent(header: Buffer | string | undefined | null): TraceContext | null {
  if (header === undefined || header === null) return null;
  const bytes = typeof header === 'string' ? Buffer.from(header, 'latin1') : header;
  if (!isTraceparent(bytes)) return null;
  const text = bytes.toString('latin1');
  return { traceId: text.slice(3, 35), spanId: text.slice(36, 52), flags: parseInt(text.slice(53, 55), 16) };
}

/** Formats a context as a version-00 traceparent. Throws on ids of the wrong shape. */
export function formatTraceparent(context: TraceContext): string {
  const flags = (context.flags & 0xff).toString(16).padStart(2, '0');
  const text = `00-${context.traceId}-${context.spanId}-${flags}`;
  if (!isTraceparent(Buffer.from(text, 'latin1'))) {
    throw new TypeError(`traceparent ${JSON.stringify(text)}: trace id must be 32 and span id 16 lower-case hex digits, not all zero`);
  }
  return text;
}

/**
 * Unique trace and span ids without a random draw per record: a random per-process prefix and a
 * counter. W3C asks ids to be unique and hard to guess across processes; the 64-bit random prefix
 * gives that, and the counter keeps them unique within the process.
 */
export class TraceIdGenerator {
  readonly #tracePrefix = randomBytes(8).toString('hex');
  readonly #spanPrefix = randomBytes(4).toString('hex');
  #counter = 0;

  /** A new root context (new trace id, new span id) as traceparent header bytes. */
  nextTraceparent(sampled: boolean): Buffer {
    const n = ++this.#counter;
    const hex = n.toString(16);
    const counter16 = '0000000000000000'.slice(hex.length) + hex;
    const counter8 = counter16.slice(8);
    return Buffer.from(`00-${this.#tracePrefix}${counter16}-${this.#spanPrefix}${counter8}-${sampled ? '01' : '00'}`, 'latin1');
  }
}
