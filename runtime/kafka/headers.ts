/**
 * Record headers between the client's form (a list of one-entry objects, values Buffer or string) and
 * ours (one record of Buffers). Every reader and writer of a topic converts through these two.
 */
import type { RecordHeaders } from '../../core/envelope.js';
import type { Message, MessageHeader } from './client.js';

const noHeaders: RecordHeaders = Object.freeze({});

/** The client's header list flattened to one record of Buffers (a later duplicate name wins). */
export function fromKafkaHeaders(headers: Message['headers']): RecordHeaders {
  if (headers === undefined || headers.length === 0) return noHeaders;
  const result: Record<string, Buffer> = {};
  for (const header of headers) {
    for (const name in header) {
      const value = header[name];
      result[name] = typeof value === 'string' ? Buffer.from(value) : (value as Buffer);
    }
  }
  return result;
}

/** Our headers in the client's form; undefined when there are none. */
export function toKafkaHeaders(headers: Readonly<Record<string, Buffer>>): MessageHeader[] | undefined {
  const names = Object.keys(headers);
  if (names.length === 0) return undefined;
  return names.map((name) => ({ [name]: headers[name]! }));
}

/** A record key as bytes (the client hands out strings for string keys). */
export function keyBytes(key: Message['key']): Buffer | null {
  if (key === null || key === undefined) return null;
  return typeof key === 'string' ? Buffer.from(key) : key;
}
