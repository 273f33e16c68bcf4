/**
 * Dead letters: a record that could not be decoded or processed goes to the topology's dead-letter
 * topic with the reason, the step that failed, its origin and its original bytes, untouched. Its
 * input offset settles only once the dead letter is acknowledged, so nothing is lost.
 */
import type { DeadLetter } from '../schemas/index.js';
import type { RecordOrigin } from '../core/envelope.js';

/** Longest error text kept; a stack of a deep failure should not make a huge record. */
const MAX_ERROR_CHARS = 4_000;

export function deadLetterFor(origin: RecordOrigin, step: string, error: unknown, failedAtMs: number): DeadLetter {
  return {
    origin_topic: origin.topic,
    origin_partition: origin.partition,
    origin_offset: origin.offset,
    step,
    error: describeError(error).slice(0, MAX_ERROR_CHARS),
    failed_at: failedAtMs,
    key: origin.key,
    value: origin.value ?? Buffer.alloc(0),
  };
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
