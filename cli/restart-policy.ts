/**
 * When a crashed instance of `signalpath run --instances N` is started again, and when the supervisor
 * gives up on it. No processes here: the supervisor (instances.ts) reports each crash with the time
 * it happened and how long the process had run, and this answers "restart after this many ms" or
 * "give up".
 *
 * The backoff doubles with each crash in a row (`initialBackoffMs`, 2×, 4×, … capped at
 * `maxBackoffMs`) and starts over once a process has run `healthyAfterMs` before crashing. At most
 * `maxRestarts` restarts fall within any `windowMs`: a process that keeps crashing (a poison record the
 * topology cannot dead-letter, a broker that refuses it) is not restarted forever.
 */

export interface RestartPolicyOptions {
  /** Restarts allowed within `windowMs`; one more crash in the window gives up. Default 5; 0 = never restart. */
  readonly maxRestarts?: number;
  /** The sliding window restarts are counted in (ms). Default 600 000 (10 min). */
  readonly windowMs?: number;
  /** Wait before the first restart after a healthy run (ms). Default 1000. */
  readonly initialBackoffMs?: number;
  /** Longest wait between crash and restart (ms). Default 30 000. */
  readonly maxBackoffMs?: number;
  /** A process that ran this long before crashing resets the backoff (ms). Default 60 000. */
  readonly healthyAfterMs?: number;
}

export type RestartDecision = { readonly restart: true; readonly afterMs: number; readonly restartsInWindow: number } | { readonly restart: false; readonly restartsInWindow: number };

const nonNegativeInteger = (name: string, value: number, max: number): number => {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`${name} ${value}: expected a whole number from 0 to ${max}`);
  return value;
};

/** The restart decisions of one instance (stateful: it remembers that instance's recent restarts). */
export class RestartPolicy {
  readonly maxRestarts: number;
  readonly windowMs: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly healthyAfterMs: number;
  /** When the restarts in the window were granted (ms, ascending); at most maxRestarts entries. */
  readonly #restartTimes: number[] = [];
  #crashesInARow = 0;

  constructor(options: RestartPolicyOptions = {}) {
    this.maxRestarts = nonNegativeInteger('maxRestarts', options.maxRestarts ?? 5, 1000);
    this.windowMs = nonNegativeInteger('windowMs', options.windowMs ?? 600_000, 86_400_000);
    this.initialBackoffMs = nonNegativeInteger('initialBackoffMs', options.initialBackoffMs ?? 1_000, 3_600_000);
    this.maxBackoffMs = nonNegativeInteger('maxBackoffMs', options.maxBackoffMs ?? 30_000, 3_600_000);
    this.healthyAfterMs = nonNegativeInteger('healthyAfterMs', options.healthyAfterMs ?? 60_000, 86_400_000);
    if (this.maxBackoffMs < this.initialBackoffMs) throw new RangeError(`maxBackoffMs ${this.maxBackoffMs}: expected at least initialBackoffMs (${this.initialBackoffMs})`);
  }

  /**
   * A process of this instance crashed at `nowMs` after running `ranForMs`: restart it after
   * `afterMs`, or give up (the window already holds `maxRestarts` restarts).
   */
  onCrash(nowMs: number, ranForMs: number): RestartDecision {
    while (this.#restartTimes.length > 0 && this.#restartTimes[0]! <= nowMs - this.windowMs) this.#restartTimes.shift();
    this.#crashesInARow = ranForMs >= this.healthyAfterMs ? 1 : this.#crashesInARow + 1;
    if (this.#restartTimes.length >= this.maxRestarts) return { restart: false, restartsInWindow: this.#restartTimes.length };
    this.#restartTimes.push(nowMs);
    const afterMs = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** Math.min(this.#crashesInARow - 1, 30));
    return { restart: true, afterMs, restartsInWindow: this.#restartTimes.length };
  }
}
