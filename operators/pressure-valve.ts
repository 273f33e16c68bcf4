/**
 * The backpressure valve of operators that hold records while asynchronous work runs (enrich,
 * parallelDetect): they count what they hold, tell upstream to pause at `pauseAtPendingRecords`
 * (`onPressure(true)`) and that it may resume at half of it (`onPressure(false)`), and fail the stream
 * beyond `maxPendingRecords`, because then upstream ignored the pause. One valve per subscription.
 */
import { checkInteger } from './options.js';

/** The valve's options, shared by every operator that has one. */
export interface PressureOptions {
  /** `onPressure(true)` when this many records are held, [1, 1e7]. Default 1000. */
  readonly pauseAtPendingRecords?: number;
  /** More records held than this errors the stream, [pauseAtPendingRecords, 1e8]. Default 100000. */
  readonly maxPendingRecords?: number;
  readonly onPressure?: (paused: boolean) => void;
}

export interface PressureLimits {
  readonly pauseAt: number;
  readonly maxPending: number;
}

/** Checks the valve's options at factory time (errors name `op` and the option). */
export function checkPressureOptions(op: string, options: PressureOptions): PressureLimits {
  const pauseAt = checkInteger(op, 'pauseAtPendingRecords', options.pauseAtPendingRecords ?? 1000, 1, 1e7);
  const maxPending = checkInteger(op, 'maxPendingRecords', options.maxPendingRecords ?? 100_000, pauseAt, 1e8);
  return { pauseAt, maxPending };
}

export class PressureValve {
  #paused = false;

  constructor(
    private readonly limits: PressureLimits,
    private readonly onPressure: ((paused: boolean) => void) | undefined,
    /** The error the stream fails with beyond `maxPending`. */
    private readonly overflow: (maxPending: number) => Error,
  ) {}

  /** One more record is about to be held, making `held` in all: the overflow error beyond the limit, else null. */
  admit(held: number): Error | null {
    if (held > this.limits.maxPending) return this.overflow(this.limits.maxPending);
    if (!this.#paused && held >= this.limits.pauseAt) {
      this.#paused = true;
      this.onPressure?.(true);
    }
    return null;
  }

  /** Records were let go: `held` remain. */
  released(held: number): void {
    if (this.#paused && held <= Math.floor(this.limits.pauseAt / 2)) {
      this.#paused = false;
      this.onPressure?.(false);
    }
  }
}
