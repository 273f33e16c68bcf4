/**
 * Operator-side event time: the watermark an operator has reached, and what it does with records
 * that arrive for a window it has already flushed.
 *
 * Operators do not compute watermarks; the source stamps `watermarkMs` on every envelope (see
 * {@link WatermarkTracker}). Envelopes can reach an operator out of order (after a mergeMap), so an
 * operator keeps the highest watermark it has seen — {@link OperatorWatermark} — and closes its
 * windows against that.
 */
import { dropRecord, type Envelope } from '../envelope.js';

/**
 * What an operator does with a record whose window has already been flushed:
 * - `'drop'` (the default everywhere): settle it as dropped and count it;
 * - a function: a side output — the function receives the envelope and owns its settlement from
 *   then on (send it to a late-records topic, or fold it into the current window yourself).
 */
export type LateRecordPolicy<T> = 'drop' | ((envelope: Envelope<T>) => void);

/** Checks a late-record policy option at factory time; throws a TypeError naming the option. */
export function assertLateRecordPolicy(policy: unknown, optionName: string): void {
  if (policy !== undefined && policy !== 'drop' && typeof policy !== 'function') {
    throw new TypeError(`${optionName} must be 'drop' or a function (envelope) => void, got ${String(policy)}`);
  }
}

/** Hands a late record to its policy. Returns nothing; the record is settled or handed over. */
export function routeLateRecord<T>(envelope: Envelope<T>, policy: LateRecordPolicy<T> | undefined): void {
  if (policy === undefined || policy === 'drop') dropRecord(envelope);
  else policy(envelope);
}

/** The highest watermark an operator has seen; monotonic, -Infinity before the first envelope. */
export class OperatorWatermark {
  #watermarkMs = -Infinity;

  get current(): number {
    return this.#watermarkMs;
  }

  /** Moves forward to `watermarkMs` if it is ahead; returns true when it moved. */
  advance(watermarkMs: number): boolean {
    if (watermarkMs > this.#watermarkMs) {
      this.#watermarkMs = watermarkMs;
      return true;
    }
    return false;
  }
}
