/** Retry policy of `enrich`: which failures are worth another try, and how long to wait. */

/** A lookup that took longer than `timeoutMs`; retriable. */
export class LookupTimeoutError extends Error {
  constructor(key: string, timeoutMs: number) {
    super(`lookup of '${key}' timed out after ${timeoutMs} ms`);
    this.name = 'LookupTimeoutError';
  }
}

/**
 * Default retriability: a timeout is retriable; an error that says `retriable: false` (or carries an
 * HTTP-like 4xx `status` other than 408/429) is not; anything else is.
 */
export function isRetriableByDefault(error: unknown): boolean {
  if (error instanceof LookupTimeoutError) return true;
  if (typeof error === 'object' && error !== null) {
    const { retriable, status } = error as { retriable?: unknown; status?: unknown };
    if (retriable === false) return false;
    if (typeof status === 'number' && status >= 400 && status < 500 && status !== 408 && status !== 429) return false;
  }
  return true;
}

/**
 * "Full jitter" backoff (Brooker, AWS Architecture Blog 2015): uniform in [0, min(cap, base · 2^attempt)).
 * Spreads retries of many records that failed together so they do not hit the service in lockstep.
 * `uniform01` is a draw in [0, 1) from the injected generator.
 */
export function fullJitterDelayMs(attempt: number, baseDelayMs: number, maxDelayMs: number, uniform01: number): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
  return Math.floor(uniform01 * ceiling);
}
