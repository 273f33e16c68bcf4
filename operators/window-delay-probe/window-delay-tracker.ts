/**
 * The bookkeeping behind `windowDelayProbe`: which records' tumbling event-time window closed while
 * they were inside a section of the chain.
 *
 * The *input watermark* is the highest watermark of any record that has entered the section so far —
 * how far event time had got upstream of it. A record's window `[start, end)` counts as closed once
 * that watermark reaches end − 1 (the rule by which windowed operators such as `windowedDedup` treat
 * a record as late). A record is `delayed` when its window was open as it entered and closed as it
 * left; `late-on-entry` when its window had closed before it entered (not the section's doing);
 * `in-time` otherwise.
 *
 * Plain class, no RxJS. State: the input watermark and one WeakMap entry per record inside the
 * section, keyed by its settlement (which the steps in between pass on); gone with the envelope.
 */
import type { Envelope } from '../../core/envelope.js';
import { tumblingWindowFor } from '../../core/event-time/windows.js';

/** What a section did to a record's window. */
export type WindowDelay = 'in-time' | 'delayed' | 'late-on-entry';

export class WindowDelayTracker {
  readonly #windowSizeMs: number;
  /** Per record inside the section: was its window open at entry. */
  readonly #openAtEntry = new WeakMap<object, boolean>();
  #inputWatermarkMs = -Infinity;

  constructor(windowSizeMs: number) {
    this.#windowSizeMs = windowSizeMs;
  }

  /** The highest watermark that entered the section. */
  get inputWatermarkMs(): number {
    return this.#inputWatermarkMs;
  }

  /** A record enters the section. */
  entered(envelope: Envelope<unknown>): void {
    if (envelope.watermarkMs > this.#inputWatermarkMs) this.#inputWatermarkMs = envelope.watermarkMs;
    this.#openAtEntry.set(envelope.settlement, !this.#closed(envelope.eventTimeMs));
  }

  /** A record leaves the section: what the section did to its window; undefined when it did not pass `entered`. */
  left(envelope: Envelope<unknown>): WindowDelay | undefined {
    const openAtEntry = this.#openAtEntry.get(envelope.settlement);
    this.#openAtEntry.delete(envelope.settlement);
    if (openAtEntry === undefined) return undefined;
    if (!openAtEntry) return 'late-on-entry';
    return this.#closed(envelope.eventTimeMs) ? 'delayed' : 'in-time';
  }

  /** Has the input watermark closed the window of this event time? */
  #closed(eventTimeMs: number): boolean {
    return this.#inputWatermarkMs >= tumblingWindowFor(eventTimeMs, { sizeMs: this.#windowSizeMs }).endMs - 1;
  }
}
