/**
 * A circuit breaker for `enrich`'s lookups: after `failureThreshold` lookups in a row fail for good
 * (retries included), the circuit opens and records are flagged at once instead of each waiting out
 * `timeoutMs` × attempts against a service that is down; after `openMs` it lets `halfOpenProbes`
 * trial lookups through (half-open), closes on the first success and opens again on a failure.
 *
 * ```
 * closed --(failureThreshold failures in a row)--> open --(openMs elapsed)--> half-open
 *   ^                                               ^                           |  |
 *   +------------------(a probe succeeds)-----------|---------------------------+  |
 *                                                   +------(a probe fails)---------+
 * ```
 *
 * Results of lookups that were started before the circuit opened are ignored while it is open: they
 * say nothing about the service now. Time comes from the injected `now` (the operator's scheduler).
 * No RxJS and no I/O here: the operator asks {@link CircuitBreaker.tryAcquire} before each lookup.
 */
import { checkFunction, checkInteger } from '../options.js';

export type CircuitState = 'closed' | 'open' | 'half-open';

/** The gauge value of a state in metrics: 0 closed, 1 half-open, 2 open. */
export const CIRCUIT_STATE_VALUE: Readonly<Record<CircuitState, number>> = { closed: 0, 'half-open': 1, open: 2 };

export interface CircuitBreakerOptions {
  /** Lookups in a row that failed for good before the circuit opens, [1, 1e6]. Default 5. */
  readonly failureThreshold?: number;
  /** How long the circuit stays open before trial lookups, ms, [1, 1e9]. Default 5000. */
  readonly openMs?: number;
  /** Trial lookups let through at once while half-open, [1, 1000]. Default 1. */
  readonly halfOpenProbes?: number;
  /** Told of every state change (wire it to a metric or a log; operators do not import either). */
  readonly onStateChange?: (state: CircuitState, previous: CircuitState) => void;
}

/** What a record gets when its lookup is not attempted because the circuit is open. */
export class CircuitOpenError extends Error {
  /** Never retried: the breaker decides when to try again. */
  readonly retriable = false;
  constructor(step: string, openForMs: number) {
    super(`${step}: circuit open (the lookup service failed repeatedly); not attempted, next trial in ${Math.max(0, openForMs)} ms`);
    this.name = 'CircuitOpenError';
  }
}

/** A lookup the breaker let through: which opening it belongs to, and whether it is a trial. */
export interface CircuitTicket {
  readonly epoch: number;
  readonly probe: boolean;
}

export class CircuitBreaker {
  readonly failureThreshold: number;
  readonly openMs: number;
  readonly halfOpenProbes: number;
  #state: CircuitState = 'closed';
  #failuresInRow = 0;
  #openedAtMs = 0;
  #probesInFlight = 0;
  /** Counts openings: tickets from before the last one are stale. */
  #epoch = 0;
  /** Times the circuit opened. */
  opens = 0;
  /** Lookups refused while open or with every probe slot taken. */
  rejected = 0;

  constructor(
    options: CircuitBreakerOptions,
    private readonly now: () => number,
    op = 'enrich',
  ) {
    this.failureThreshold = checkInteger(op, 'circuitBreaker.failureThreshold', options.failureThreshold ?? 5, 1, 1e6);
    this.openMs = checkInteger(op, 'circuitBreaker.openMs', options.openMs ?? 5000, 1, 1e9);
    this.halfOpenProbes = checkInteger(op, 'circuitBreaker.halfOpenProbes', options.halfOpenProbes ?? 1, 1, 1000);
    checkFunction(op, 'circuitBreaker.onStateChange', options.onStateChange, false);
    this.#onStateChange = options.onStateChange;
  }

  readonly #onStateChange: CircuitBreakerOptions['onStateChange'];

  /** The state now (an open circuit whose time is up reads as half-open). */
  get state(): CircuitState {
    if (this.#state === 'open' && this.now() - this.#openedAtMs >= this.openMs) this.#move('half-open');
    return this.#state;
  }

  /** Ms until an open circuit lets a trial through (0 otherwise). */
  get openForMs(): number {
    return this.#state === 'open' ? this.#openedAtMs + this.openMs - this.now() : 0;
  }

  /**
   * May a lookup start now? A ticket when closed, or for a free probe slot when half-open; null when
   * not. Report the lookup's end with {@link succeeded} or {@link failed} and its ticket.
   */
  tryAcquire(): CircuitTicket | null {
    const state = this.state;
    if (state === 'closed') return { epoch: this.#epoch, probe: false };
    if (state === 'half-open' && this.#probesInFlight < this.halfOpenProbes) {
      this.#probesInFlight++;
      return { epoch: this.#epoch, probe: true };
    }
    this.rejected++;
    return null;
  }

  succeeded(ticket: CircuitTicket): void {
    if (!this.#current(ticket)) return;
    if (this.#state === 'half-open') {
      this.#failuresInRow = 0;
      this.#move('closed');
    } else if (this.#state === 'closed') {
      this.#failuresInRow = 0;
    }
  }

  failed(ticket: CircuitTicket): void {
    if (!this.#current(ticket)) return;
    const state = this.state;
    if (state === 'half-open') this.#open();
    else if (state === 'closed' && ++this.#failuresInRow >= this.failureThreshold) this.#open();
  }

  /** Releases a probe slot; false for a lookup started before the circuit last opened (ignored). */
  #current(ticket: CircuitTicket): boolean {
    if (ticket.epoch !== this.#epoch) return false;
    if (ticket.probe) this.#probesInFlight = Math.max(0, this.#probesInFlight - 1);
    return true;
  }

  #open(): void {
    this.#epoch++;
    this.#openedAtMs = this.now();
    this.#failuresInRow = 0;
    this.#probesInFlight = 0;
    this.opens++;
    this.#move('open');
  }

  #move(next: CircuitState): void {
    const previous = this.#state;
    if (previous === next) return;
    this.#state = next;
    this.#onStateChange?.(next, previous);
  }
}
