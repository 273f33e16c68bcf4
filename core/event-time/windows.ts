/**
 * Event-time windows and epochs shared by every operator that holds state by event time (sampling
 * windows, dedup windows, bandit epochs).
 *
 * Conventions, fixed here so that all operators agree on the off-by-ones:
 *
 * - A window is half-open, `[startMs, endMs)`: an event at exactly `endMs` belongs to the next one.
 * - Window boundaries are aligned to `offsetMs` (default 0, i.e. the Unix epoch), so every process
 *   computes the same windows for the same event times, whatever record it saw first.
 * - The envelope's watermark means "every later record with an event time at or below it is late"
 *   (core/envelope.ts). A window is therefore *complete* once `watermarkMs >= endMs - 1`: no
 *   on-time record can still fall in it, so its state may be emitted and forgotten.
 * - A record is *late for its window* when its window is already complete; an operator that has
 *   already flushed that window can no longer place it.
 */

/** A half-open event-time interval `[startMs, endMs)`, epoch milliseconds. */
export interface EventTimeWindow {
  readonly startMs: number;
  readonly endMs: number;
}

/** Tumbling (fixed, non-overlapping) windows of `sizeMs`, aligned to `offsetMs`. */
export interface TumblingWindowSpec {
  /** Window length in milliseconds; an integer ≥ 1. */
  readonly sizeMs: number;
  /** Alignment of window starts, in milliseconds; default 0 (windows start at multiples of `sizeMs`). */
  readonly offsetMs?: number;
}

/** Hopping (overlapping) windows of `sizeMs` starting every `advanceMs`, aligned to `offsetMs`. */
export interface HoppingWindowSpec {
  /** Window length in milliseconds; an integer ≥ 1. */
  readonly sizeMs: number;
  /** Distance between consecutive window starts in milliseconds; an integer in [1, sizeMs]. */
  readonly advanceMs: number;
  /** Alignment of window starts, in milliseconds; default 0. */
  readonly offsetMs?: number;
}

/**
 * Checks a window length (or epoch length) option; throws a RangeError naming the option.
 * Operators call it at factory time: `assertWindowSizeMs(options.windowMs, 'adaptiveSample: windowMs')`.
 */
export function assertWindowSizeMs(sizeMs: unknown, optionName: string): asserts sizeMs is number {
  if (typeof sizeMs !== 'number' || !Number.isSafeInteger(sizeMs) || sizeMs < 1) {
    throw new RangeError(`${optionName} must be an integer number of milliseconds ≥ 1, got ${String(sizeMs)}`);
  }
}

/** Start of the tumbling window that holds `eventTimeMs` (works for negative times too). */
export function windowStartMs(eventTimeMs: number, sizeMs: number, offsetMs = 0): number {
  const shifted = eventTimeMs - offsetMs;
  return shifted - (((shifted % sizeMs) + sizeMs) % sizeMs) + offsetMs;
}

/** The tumbling window `[start, start + size)` that holds `eventTimeMs`. */
export function tumblingWindowFor(eventTimeMs: number, spec: TumblingWindowSpec): EventTimeWindow {
  const startMs = windowStartMs(eventTimeMs, spec.sizeMs, spec.offsetMs ?? 0);
  return { startMs, endMs: startMs + spec.sizeMs };
}

/**
 * Every hopping window that holds `eventTimeMs`, earliest first (there are `ceil(size / advance)`
 * of them when `advance` divides `size`).
 */
export function hoppingWindowsFor(eventTimeMs: number, spec: HoppingWindowSpec): EventTimeWindow[] {
  const offsetMs = spec.offsetMs ?? 0;
  const lastStartMs = windowStartMs(eventTimeMs, spec.advanceMs, offsetMs);
  const windows: EventTimeWindow[] = [];
  for (let startMs = lastStartMs; startMs > eventTimeMs - spec.sizeMs; startMs -= spec.advanceMs) {
    windows.unshift({ startMs, endMs: startMs + spec.sizeMs });
  }
  return windows;
}

/**
 * The epoch number of `eventTimeMs` for epochs of `epochMs` aligned to `offsetMs`: epoch n covers
 * `[offset + n·epochMs, offset + (n+1)·epochMs)`. Bandit epochs and sampling windows use it as a key.
 */
export function epochIndex(eventTimeMs: number, epochMs: number, offsetMs = 0): number {
  return Math.floor((eventTimeMs - offsetMs) / epochMs);
}

/** The window of epoch `index` (inverse of {@link epochIndex}). */
export function epochWindow(index: number, epochMs: number, offsetMs = 0): EventTimeWindow {
  const startMs = offsetMs + index * epochMs;
  return { startMs, endMs: startMs + epochMs };
}

/** True once the watermark guarantees that no on-time record can still fall in `window`. */
export function isWindowComplete(window: EventTimeWindow, watermarkMs: number): boolean {
  return watermarkMs >= window.endMs - 1;
}

/**
 * True when a record at `eventTimeMs` arrives after its tumbling window is complete by `watermarkMs`
 * (the watermark the operator had reached *before* this record).
 */
export function isLateForWindow(eventTimeMs: number, spec: TumblingWindowSpec, watermarkMs: number): boolean {
  return isWindowComplete(tumblingWindowFor(eventTimeMs, spec), watermarkMs);
}
