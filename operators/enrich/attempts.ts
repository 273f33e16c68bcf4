/**
 * One lookup with a per-attempt timeout (its AbortSignal fires), and jittered retries of retriable
 * failures, all timed by the injected scheduler. Works with a Promise or an Observable (first value;
 * an Observable that completes empty answers `undefined`).
 */
import { from, isObservable, take, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import type { SeededRandom } from '../../core/random.js';
import { fullJitterDelayMs, LookupTimeoutError } from './retry.js';

export interface AttemptPolicy {
  readonly timeoutMs: number;
  readonly retries: number;
  readonly retryBaseDelayMs: number;
  readonly retryMaxDelayMs: number;
  readonly isRetriable: (error: unknown) => boolean;
}

export type AttemptOutcome<R> = { readonly ok: true; readonly value: R | undefined } | { readonly ok: false; readonly error: unknown };

export interface AttemptEvents {
  onTimeout(): void;
  onRetry(): void;
}

/**
 * Runs `call` until it succeeds, fails for good, or is cancelled; `done` is called exactly once
 * unless cancelled first. Returns the cancel function (aborts the signal of the attempt in progress).
 */
export function runWithRetries<R>(
  label: string,
  call: (signal: AbortSignal) => PromiseLike<R | undefined> | Observable<R | undefined>,
  policy: AttemptPolicy,
  scheduler: SchedulerLike,
  random: SeededRandom,
  events: AttemptEvents,
  done: (outcome: AttemptOutcome<R>) => void,
): () => void {
  let cancelled = false;
  let controller: AbortController | undefined;
  let timer: Subscription | undefined;
  let retryTimer: Subscription | undefined;
  let inner: Subscription | undefined;

  const attempt = (n: number): void => {
    if (cancelled) return;
    const attemptController = new AbortController();
    controller = attemptController;
    let settled = false;
    const settle = (outcome: AttemptOutcome<R>): void => {
      if (settled || cancelled) return;
      settled = true;
      timer?.unsubscribe();
      inner?.unsubscribe();
      if (outcome.ok) {
        done(outcome);
        return;
      }
      if (n < policy.retries && policy.isRetriable(outcome.error)) {
        events.onRetry();
        const delayMs = fullJitterDelayMs(n, policy.retryBaseDelayMs, policy.retryMaxDelayMs, random.nextFloat());
        retryTimer = scheduler.schedule(() => attempt(n + 1), delayMs);
        return;
      }
      done(outcome);
    };
    timer = scheduler.schedule(() => {
      if (settled || cancelled) return;
      events.onTimeout();
      const error = new LookupTimeoutError(label, policy.timeoutMs);
      attemptController.abort(error);
      settle({ ok: false, error });
    }, policy.timeoutMs);
    let result: PromiseLike<R | undefined> | Observable<R | undefined>;
    try {
      result = call(attemptController.signal);
    } catch (error) {
      settle({ ok: false, error });
      return;
    }
    const source = isObservable(result) ? result : from(result);
    let got = false;
    const subscription = source.pipe(take(1)).subscribe({
      next: (value) => {
        got = true;
        settle({ ok: true, value });
      },
      error: (error: unknown) => settle({ ok: false, error }),
      complete: () => {
        if (!got) settle({ ok: true, value: undefined });
      },
    });
    if (!settled) inner = subscription;
  };

  attempt(0);
  return () => {
    cancelled = true;
    timer?.unsubscribe();
    retryTimer?.unsubscribe();
    inner?.unsubscribe();
    controller?.abort(new Error(`lookup of '${label}' cancelled`));
  };
}
