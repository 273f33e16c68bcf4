/**
 * Decoding an input record, and what a record that cannot be decoded becomes: a dead letter. A
 * tombstone, a value over `maxRecordBytes` and a value the contract rejects all fail here; a failure
 * a fetch can cure (an unknown writer schema) returns the cure instead, and the record is decoded again.
 */
import type { RecordHeaders } from '../../core/envelope.js';
import type { Message } from './client.js';

/** Bytes of an oversize value kept in its dead letter (enough to recognise it, never the whole). */
export const OVERSIZE_KEPT_BYTES = 1024;

/** A record value over `maxRecordBytes` (`--max-record-bytes`): dead-lettered, never decoded. */
export class RecordTooLargeError extends Error {
  constructor(readonly bytes: number, readonly maxBytes: number) {
    super(`record value is ${bytes} bytes, over the limit of ${maxBytes} (--max-record-bytes / SIGNALPATH_MAX_RECORD_BYTES); not decoded, the dead letter keeps its first ${OVERSIZE_KEPT_BYTES} bytes`);
    this.name = 'RecordTooLargeError';
  }
}

/** A record that did not decode: `error` goes to its dead letter. */
export class DecodeFailure {
  constructor(readonly error: unknown) {}
}

/** A record whose decoding waits for `cure` (a writer schema being fetched): decode it again after. */
export class DecodeDeferred {
  constructor(readonly cure: Promise<void>) {}
}

export interface RecordDecoderOptions<T> {
  /** Decodes a record value; throws on bad input. */
  readonly decode: (bytes: Buffer, headers: RecordHeaders) => T;
  /** On a decode error: a promise when fetching something cures it, or null to dead-letter. */
  readonly resolveWriter?: (error: unknown, bytes: Buffer) => Promise<void> | null;
  /** Values larger than this are never decoded (default: no limit). */
  readonly maxRecordBytes?: number;
}

export class RecordDecoder<T> {
  constructor(private readonly options: RecordDecoderOptions<T>) {}

  /** The value, a {@link DecodeFailure}, or (only when `mayResolve`) a {@link DecodeDeferred}. */
  decode(message: Message, headers: RecordHeaders, mayResolve: boolean): T | DecodeFailure | DecodeDeferred {
    const bytes = message.value;
    try {
      if (bytes === null) throw new Error('record has no value (a tombstone); the contract requires one');
      if (this.isOversize(message)) throw new RecordTooLargeError(bytes.length, this.options.maxRecordBytes!);
      return this.options.decode(bytes, headers);
    } catch (error) {
      const cure = mayResolve && bytes !== null ? (this.options.resolveWriter?.(error, bytes) ?? null) : null;
      return cure !== null ? new DecodeDeferred(cure) : new DecodeFailure(error);
    }
  }

  isOversize(message: Message): boolean {
    const maxRecordBytes = this.options.maxRecordBytes;
    return maxRecordBytes !== undefined && message.value !== null && message.value.length > maxRecordBytes;
  }

  /** The value an origin (and so a dead letter) carries: an oversize one cut to its first bytes. */
  originValue(message: Message): Buffer | null {
    return this.isOversize(message) ? Buffer.from(message.value!.subarray(0, OVERSIZE_KEPT_BYTES)) : message.value;
  }
}
