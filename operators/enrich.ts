/**
 * enrich: looks up data for each record by key — through a local cache, one call per key at a time,
 * with bounded concurrency, a timeout and jittered retries — and passes the record on with what was
 * found, as soon as its own lookup is done (no head-of-line blocking).
 *
 * ```
 * source:  --a--b--a--c--|            (letter = lookup key; a lookup takes 4 frames)
 * result:  ------A--B-A--C|           (2nd a joins the call under way or hits the cache; c is not held
 *                                      back by anyone; `ordered: true` would release in input order)
 * ```
 *
 * Cache: lru-cache bounded by `maxCacheEntries`; fresh for `ttlMs`, then served stale for
 * `staleWhileRevalidateMs` while one background refresh runs; "not found" answers are cached for
 * `negativeTtlMs`. Single-flight: misses for a key whose lookup is under way join it (`coalesced`).
 * A lookup that fails for good (after `retries` jittered retries of retriable errors, each attempt
 * bounded by `timeoutMs` and aborted through its AbortSignal) never errors the stream: the record goes
 * on unenriched with `status: 'failed'` and the error text (`onFailure: 'flag'`, the default), or to
 * the `deadLetter` callback (`onFailure: 'dead-letter'`).
 *
 * `mode: 'batched'` is the efficiency-tuned baseline: records wait until `batchSize` of them or
 * `batchWindowMs` have gathered, one batch lookup serves them all, and the batch leaves together in
 * order, one batch at a time — cache hits and fast keys wait behind the slowest key of their batch.
 *
 * Circuit breaker (`circuitBreaker` option): after `failureThreshold` lookups in a row fail for good,
 * the circuit opens and lookups are not attempted for `openMs` — their records fail at once with
 * `CircuitOpenError` (flagged or dead-lettered as above) instead of each waiting `timeoutMs` per
 * attempt; then `halfOpenProbes` trial lookups decide whether it closes again. Cache hits are served
 * throughout. The state is in `counters.circuitState` and told to `onStateChange`, for the topology to
 * export as a metric.
 *
 * State: stateful per key (the cache, bounded by `maxCacheEntries`; the calls under way, bounded by
 * `concurrency`) and per record held (bounded by `maxPendingRecords`).
 *
 * Snapshot (`state` option, {@link OperatorStateHandle}): `{ operator: 'enrich', version: 1, entries }`
 * — the cache, least recently used first, each entry `{ key, value | notFound, fetchedAtMs }` (the
 * lookup's answers must be JSON-serialisable). Restored entries keep their fetch times, so freshness
 * is judged as before the restart; a restore can come at any time and adds to the cache. Lookups
 * under way and records held are not in it: those records are uncommitted and read again.
 *
 * Delivery: every input leaves exactly once — enriched, flagged, or handed to `deadLetter` (which then
 * owns its settlement). Unordered by default; `ordered: true` keeps input order. Records held count
 * toward `pauseAtPendingRecords` (`onPressure(true)`, `false` at half); beyond `maxPendingRecords` the
 * stream errors, because upstream ignored the pause.
 *
 * @example
 * const counters = new EnrichCounters();
 * const out = from(envelopes).pipe(
 *   enrich({
 *     keyOf: (event: { model_id: string }) => event.model_id,
 *     lookup: async (modelId) => ({ owner: `team-${modelId}` }),
 *     counters,
 *   }),
 * );
 */
import { asyncScheduler, forkJoin, from, isObservable, map, Observable, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { withValue, type Envelope } from '../core/envelope.js';
import { EnrichCounters } from './enrich/counters.js';
import type { UsageMeter } from '../core/usage-meter.js';
import { EnrichmentCache, NOT_FOUND, type CacheEntrySnapshot } from './enrich/enrichment-cache.js';
import { runWithRetries, type AttemptOutcome, type AttemptPolicy } from './enrich/attempts.js';
import { ReorderBuffer } from './enrich/reorder-buffer.js';
import { CircuitBreaker, CircuitOpenError, type CircuitBreakerOptions, type CircuitTicket } from './enrich/circuit-breaker.js';
import { isRetriableByDefault } from './enrich/retry.js';
import { checkFunction, checkInteger, checkOneOf } from './options.js';
import { checkPressureOptions, PressureValve, type PressureOptions } from './pressure-valve.js';
import { assertSeededRandom, SeededRandom } from '../core/random.js';
import { assertSnapshotVersion, assertStateHandle, type OperatorStateHandle } from '../core/state.js';

export { EnrichCounters } from './enrich/counters.js';
export { LookupTimeoutError } from './enrich/retry.js';
export { CircuitOpenError, CIRCUIT_STATE_VALUE, type CircuitState, type CircuitBreakerOptions } from './enrich/circuit-breaker.js';

/** How a record's enrichment went. */
export type EnrichStatus = 'hit' | 'stale' | 'fetched' | 'not-found' | 'failed';

/** The value `enrich` emits: the record, what was found, and how. */
export interface Enriched<T, E> {
  readonly record: T;
  /** The lookup's answer; undefined when not found or failed. */
  readonly enrichment: E | undefined;
  readonly status: EnrichStatus;
  /** Why the lookup failed (`status: 'failed'`). */
  readonly error?: string;
  /**
   * Retries the record's lookup took (async mode; absent when none): an annotation for telemetry
   * (tail-hotspot spans name records that waited for retries), nothing depends on it.
   */
  readonly retries?: number;
}

/** A record whose lookup failed, for the dead-letter output; the receiver owns its settlement. */
export interface EnrichFailure<T> {
  readonly envelope: Envelope<T>;
  readonly step: string;
  readonly key: string;
  readonly error: unknown;
  /** Scheduler time of the failure, epoch ms. */
  readonly failedAtMs: number;
}

/** Looks one key up; resolves undefined when there is nothing to find. Must honour `signal`. */
export type Lookup<E> = (key: string, signal: AbortSignal) => PromiseLike<E | undefined> | Observable<E | undefined>;

/** Looks several keys up in one call (batched mode); keys missing from the map were not found. */
export type BatchLookup<E> = (
  keys: readonly string[],
  signal: AbortSignal,
) => PromiseLike<ReadonlyMap<string, E>> | Observable<ReadonlyMap<string, E>>;

export interface EnrichOptions<T, E> extends PressureOptions {
  /** The lookup key of a record. Required. */
  readonly keyOf: (value: T) => string;
  /** The lookup. Required (batched mode uses it when `lookupBatch` is not given). */
  readonly lookup: Lookup<E>;
  /** Step name in dead letters and errors. Default 'enrich'. */
  readonly step?: string;
  /** 'async' (the default) or 'batched' (the baseline: fixed batches, head-of-line blocking). */
  readonly mode?: 'async' | 'batched';
  /** Lookups under way at once, [1, 4096]. Default 16. */
  readonly concurrency?: number;
  /** Emit in input order (a slow lookup then holds later records back). Default false. */
  readonly ordered?: boolean;
  /** Cache size in entries, [0, 1e7] (0 disables the cache). Default 10000. */
  readonly maxCacheEntries?: number;
  /** How long an answer is fresh, ms, [0, 1e9]. Default 60000. */
  readonly ttlMs?: number;
  /** How long past `ttlMs` an answer is still served while refreshed, ms, [0, 1e9]. Default 30000. */
  readonly staleWhileRevalidateMs?: number;
  /** How long "not found" is cached, ms, [0, 1e9] (0: not cached). Default 10000. */
  readonly negativeTtlMs?: number;
  /** Time limit of one lookup attempt, ms, [1, 1e7]. Default 1000. */
  readonly timeoutMs?: number;
  /** Retries of a retriable failure, [0, 20]. Default 2. */
  readonly retries?: number;
  /** Base of the exponential full-jitter backoff, ms, [0, 1e6]. Default 50. */
  readonly retryBaseDelayMs?: number;
  /** Cap of the backoff, ms, [0, 1e7]. Default 2000. */
  readonly retryMaxDelayMs?: number;
  /** Which failures are retried. Default: timeouts and errors not marked `retriable: false` or 4xx. */
  readonly isRetriable?: (error: unknown) => boolean;
  /** 'flag' (emit unenriched with status 'failed', the default) or 'dead-letter'. */
  readonly onFailure?: 'flag' | 'dead-letter';
  /** Receives failed records when `onFailure: 'dead-letter'`; it must settle them. */
  readonly deadLetter?: (failure: EnrichFailure<T>) => void;
  /** Batched mode: records per batch, [1, 1e5]. Default 100. */
  readonly batchSize?: number;
  /** Batched mode: longest wait for a batch to fill, ms, [0, 1e7]. Default 50. */
  readonly batchWindowMs?: number;
  /** Batched mode: one call for a batch's keys. Default: `lookup` per key, together. */
  readonly lookupBatch?: BatchLookup<E>;
  /** Counters to update (hits, misses, coalesced, timeouts, in flight, latency). */
  readonly counters?: EnrichCounters;
  /**
   * Spend meter: counts one 'enrichment-call' per call made to the service — every attempt, retries
   * included; in batched mode one per key fetched (one per batch with a custom `lookupBatch`). Cache
   * hits and coalesced records cost nothing. Default: none.
   */
  readonly meter?: UsageMeter;
  /** Clock and timers (timeouts, retries, TTL, batch windows). Default asyncScheduler. */
  readonly scheduler?: SchedulerLike;
  /** Retry jitter. Default SeededRandom.fromSeed(0); each subscription draws from a clone. */
  readonly random?: SeededRandom;
  /** Snapshot/restore of the cache as plain data (see "Snapshot" above). Default: none. */
  readonly state?: OperatorStateHandle;
  /**
   * Stop calling a service that keeps failing (see "Circuit breaker" above): `failureThreshold`
   * (default 5), `openMs` (default 5000), `halfOpenProbes` (default 1), `onStateChange`. Default: none.
   */
  readonly circuitBreaker?: CircuitBreakerOptions;
}

const op = 'enrich';

export class PendingOverflowError extends Error {
  constructor(limit: number) {
    super(`enrich: more than maxPendingRecords=${limit} records held: upstream did not pause on onPressure(true)`);
    this.name = 'PendingOverflowError';
  }
}

interface Waiter<T> {
  readonly envelope: Envelope<T>;
  readonly seq: number;
  /** The lookup key (batched mode keeps it with the record). */
  readonly key?: string;
}

interface Flight<T> {
  readonly key: string;
  readonly waiters: Waiter<T>[];
  /** Retries so far (annotated on the records it delivers). */
  retries?: number;
}

export function enrich<T, E>(options: EnrichOptions<T, E>): OperatorFunction<Envelope<T>, Envelope<Enriched<T, E>>> {
  checkFunction(op, 'keyOf', options.keyOf, true);
  checkFunction(op, 'lookup', options.lookup, true);
  checkFunction(op, 'isRetriable', options.isRetriable, false);
  checkFunction(op, 'onPressure', options.onPressure, false);
  checkFunction(op, 'lookupBatch', options.lookupBatch, false);
  const mode = checkOneOf(op, 'mode', options.mode ?? 'async', ['async', 'batched'] as const);
  const onFailure = checkOneOf(op, 'onFailure', options.onFailure ?? 'flag', ['flag', 'dead-letter'] as const);
  checkFunction(op, 'deadLetter', options.deadLetter, onFailure === 'dead-letter');
  const concurrency = checkInteger(op, 'concurrency', options.concurrency ?? 16, 1, 4096);
  const maxCacheEntries = checkInteger(op, 'maxCacheEntries', options.maxCacheEntries ?? 10_000, 0, 1e7);
  const cacheOptions = {
    maxEntries: Math.max(1, maxCacheEntries),
    ttlMs: maxCacheEntries === 0 ? 0 : checkInteger(op, 'ttlMs', options.ttlMs ?? 60_000, 0, 1e9),
    staleWhileRevalidateMs: maxCacheEntries === 0 ? 0 : checkInteger(op, 'staleWhileRevalidateMs', options.staleWhileRevalidateMs ?? 30_000, 0, 1e9),
    negativeTtlMs: maxCacheEntries === 0 ? 0 : checkInteger(op, 'negativeTtlMs', options.negativeTtlMs ?? 10_000, 0, 1e9),
  };
  const policy: AttemptPolicy = {
    timeoutMs: checkInteger(op, 'timeoutMs', options.timeoutMs ?? 1000, 1, 1e7),
    retries: checkInteger(op, 'retries', options.retries ?? 2, 0, 20),
    retryBaseDelayMs: checkInteger(op, 'retryBaseDelayMs', options.retryBaseDelayMs ?? 50, 0, 1e6),
    retryMaxDelayMs: checkInteger(op, 'retryMaxDelayMs', options.retryMaxDelayMs ?? 2000, 0, 1e7),
    isRetriable: options.isRetriable ?? isRetriableByDefault,
  };
  const pressure = checkPressureOptions(op, options);
  const batchSize = checkInteger(op, 'batchSize', options.batchSize ?? 100, 1, 1e5);
  const batchWindowMs = checkInteger(op, 'batchWindowMs', options.batchWindowMs ?? 50, 0, 1e7);
  assertSeededRandom(options.random, `${op}: option 'random'`);
  assertStateHandle(options.state, `${op}: option 'state'`);
  const breakerOptions = options.circuitBreaker;
  if (breakerOptions !== undefined) {
    if (typeof breakerOptions !== 'object' || breakerOptions === null) throw new TypeError(`${op}: option 'circuitBreaker' must be an object, got ${String(breakerOptions)}`);
    new CircuitBreaker(breakerOptions, () => 0, op); // checks its options now, before anyone subscribes
  }
  const step = options.step ?? op;
  const ordered = options.ordered ?? false;
  const scheduler = options.scheduler ?? asyncScheduler;
  const baseRandom = options.random ?? SeededRandom.fromSeed(0);
  const { keyOf, lookup, deadLetter, onPressure, meter } = options;
  const lookupBatch: BatchLookup<E> =
    options.lookupBatch ??
    ((keys, signal) =>
      forkJoin(keys.map((key) => { meter?.add('enrichment-call', 1); const r = lookup(key, signal); return isObservable(r) ? r : from(r); })).pipe(
        map((values) => {
          const found = new Map<string, E>();
          values.forEach((value, i) => {
            if (value !== undefined) found.set(keys[i]!, value);
          });
          return found;
        }),
      ));

  return (source) =>
    new Observable<Envelope<Enriched<T, E>>>((subscriber) => {
      const counters = options.counters ?? new EnrichCounters();
      const random = baseRandom.clone();
      const cache = new EnrichmentCache<E>(cacheOptions);
      options.state?.attach(
        op,
        () => ({ operator: op, version: 1, entries: cache.dump() }),
        (snapshot) => {
          assertSnapshotVersion(snapshot, op, 1);
          const entries = snapshot['entries'];
          if (!Array.isArray(entries)) throw new TypeError(`${op}: restore() needs { entries: [...] }`);
          cache.load(entries as CacheEntrySnapshot<E>[]);
        },
      );
      const breaker =
        breakerOptions === undefined
          ? undefined
          : new CircuitBreaker(
              {
                ...breakerOptions,
                onStateChange: (state, previous) => {
                  counters.circuitState = state;
                  if (state === 'open') counters.circuitOpens++;
                  breakerOptions.onStateChange?.(state, previous);
                },
              },
              () => scheduler.now(),
              op,
            );
      counters.circuitState = 'closed';
      /** A lookup the open circuit refuses: its records fail at once (flagged or dead-lettered). */
      const refused = (): AttemptOutcome<never> => {
        counters.circuitRejected++;
        return { ok: false, error: new CircuitOpenError(step, breaker!.openForMs) };
      };
      const reorder = new ReorderBuffer<Envelope<Enriched<T, E>> | null>();
      const flights = new Map<string, Flight<T>>();
      const cancels = new Set<() => void>();
      const events = { onTimeout: () => counters.timeouts++, onRetry: () => counters.retries++ };
      let waiting = 0; // records waiting for a lookup
      let active = 0;
      let sourceDone = false;
      const valve = new PressureValve(pressure, onPressure, (limit) => new PendingOverflowError(limit));
      /** Async mode: flights waiting for a free slot (a deque: head index instead of Array.shift). */
      let callQueue: Flight<T>[] = [];
      let callQueueHead = 0;
      /** Batched mode: the batch being filled, full batches waiting, and whether one is under way. */
      let batch: Waiter<T>[] = [];
      let batchTimer: { unsubscribe(): void } | undefined;
      const batchQueue: Waiter<T>[][] = [];
      let batchRunning = false;

      const held = (): number => waiting + reorder.held + batch.length + batchQueue.reduce((n, b) => n + b.length, 0);

      const emit = (result: Envelope<Enriched<T, E>> | null, seq: number): void => {
        if (!ordered) {
          if (result !== null) subscriber.next(result);
          return;
        }
        for (const out of reorder.complete(seq, result)) if (out !== null && !subscriber.closed) subscriber.next(out);
      };

      const deliver = (w: Waiter<T>, enrichment: E | undefined, status: EnrichStatus, retries?: number): void =>
        emit(withValue(w.envelope, retries ? { record: w.envelope.value, enrichment, status, retries } : { record: w.envelope.value, enrichment, status }), w.seq);

      const fail = (w: Waiter<T>, key: string, error: unknown, retries?: number): void => {
        counters.failures++;
        if (onFailure === 'flag') {
          const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          const failed = { record: w.envelope.value, enrichment: undefined, status: 'failed' as const, error: text };
          emit(withValue(w.envelope, retries ? { ...failed, retries } : failed), w.seq);
          return;
        }
        deadLetter!({ envelope: w.envelope, step, key, error, failedAtMs: scheduler.now() });
        emit(null, w.seq);
      };

      const afterProgress = (): void => {
        counters.pendingRecords = held();
        valve.released(counters.pendingRecords);
        if (sourceDone && active === 0 && held() === 0 && !batchRunning) subscriber.complete();
      };

      const beforeHold = (): boolean => {
        const overflow = valve.admit(held() + 1);
        if (overflow !== null) subscriber.error(overflow);
        return overflow === null;
      };

      // ---- async mode ----
      const startFlight = (flight: Flight<T>): void => {
        const ticket: CircuitTicket | null = breaker === undefined ? null : breaker.tryAcquire();
        if (breaker !== undefined && ticket === null) {
          flights.delete(flight.key);
          finishFlight(flight, refused());
          return;
        }
        active++;
        counters.inFlight++;
        counters.lookups++;
        const startedMs = scheduler.now();
        // done may run before runWithRetries returns (a synchronous answer): reach cancel through a holder.
        const handle: { cancel?: () => void; finished: boolean } = { finished: false };
        // Per-flight events (one object per lookup, not per record) so its records can carry their retries.
        const flightEvents = {
          onTimeout: events.onTimeout,
          onRetry: () => {
            events.onRetry();
            flight.retries = (flight.retries ?? 0) + 1;
          },
        };
        handle.cancel = runWithRetries(flight.key, (signal) => {
          meter?.add('enrichment-call', 1);
          return lookup(flight.key, signal);
        }, policy, scheduler, random, flightEvents, (outcome) => {
          handle.finished = true;
          if (handle.cancel !== undefined) cancels.delete(handle.cancel);
          active--;
          counters.inFlight--;
          counters.recordLatency(scheduler.now() - startedMs);
          flights.delete(flight.key);
          if (ticket !== null) {
            if (outcome.ok) breaker!.succeeded(ticket);
            else breaker!.failed(ticket);
          }
          try {
            finishFlight(flight, outcome);
          } catch (err) {
            subscriber.error(err); // a throwing deadLetter callback or downstream: a fault
            return;
          }
          while (active < concurrency && callQueueHead < callQueue.length) {
            const next = callQueue[callQueueHead++]!;
            if (callQueueHead > 1024 && callQueueHead * 2 > callQueue.length) {
              callQueue = callQueue.slice(callQueueHead);
              callQueueHead = 0;
            }
            startFlight(next);
          }
          afterProgress();
        });
        if (!handle.finished) cancels.add(handle.cancel);
      };

      const finishFlight = (flight: Flight<T>, outcome: AttemptOutcome<E>): void => {
        if (outcome.ok) {
          if (outcome.value === undefined) counters.notFound++;
          cache.write(flight.key, outcome.value ?? NOT_FOUND, scheduler.now());
        }
        waiting -= flight.waiters.length;
        for (const w of flight.waiters) {
          if (subscriber.closed) return;
          if (!outcome.ok) fail(w, flight.key, outcome.error, flight.retries);
          else deliver(w, outcome.value, outcome.value === undefined ? 'not-found' : 'fetched', flight.retries);
        }
      };

      const onAsyncRecord = (envelope: Envelope<T>, key: string, seq: number): void => {
        const read = cache.read(key, scheduler.now());
        if (read.state === 'fresh') {
          counters.hits++;
          if (ordered && !beforeHold()) return;
          const found = read.value === NOT_FOUND ? undefined : read.value;
          deliver({ envelope, seq }, found, found === undefined ? 'not-found' : 'hit');
          return;
        }
        if (read.state === 'stale') {
          counters.staleHits++;
          if (ordered && !beforeHold()) return;
          deliver({ envelope, seq }, read.value, 'stale');
          if (!flights.has(key) && active < concurrency) {
            const refresh: Flight<T> = { key, waiters: [] };
            flights.set(key, refresh);
            startFlight(refresh);
          }
          return;
        }
        counters.misses++;
        if (!beforeHold()) return;
        waiting++;
        const flight = flights.get(key);
        if (flight !== undefined) {
          counters.coalesced++;
          flight.waiters.push({ envelope, seq });
          return;
        }
        const fresh: Flight<T> = { key, waiters: [{ envelope, seq }] };
        flights.set(key, fresh);
        if (active < concurrency) startFlight(fresh);
        else callQueue.push(fresh);
      };

      // ---- batched mode ----
      const closeBatch = (): void => {
        batchTimer?.unsubscribe();
        batchTimer = undefined;
        if (batch.length === 0) return;
        batchQueue.push(batch);
        batch = [];
        runNextBatch();
      };

      const runNextBatch = (): void => {
        if (batchRunning) return;
        const next = batchQueue.shift(); // at most a few batches wait: O(1) in practice
        if (next === undefined) return;
        batchRunning = true;
        const now = scheduler.now();
        const answers = new Map<string, E | undefined>();
        const toFetch = new Set<string>();
        const keys = next.map((w) => w.key!);
        keys.forEach((key) => {
          const read = cache.read(key, now);
          if (read.state === 'absent') {
            counters.misses++;
            if (toFetch.has(key)) counters.coalesced++;
            toFetch.add(key);
          } else {
            if (read.state === 'fresh') counters.hits++;
            else counters.staleHits++;
            answers.set(key, read.value === NOT_FOUND ? undefined : read.value);
          }
        });
        const release = (outcome: AttemptOutcome<ReadonlyMap<string, E>> | null): void => {
          batchRunning = false;
          const t = scheduler.now();
          for (const key of toFetch) {
            if (outcome?.ok) {
              const value = outcome.value?.get(key);
              if (value === undefined) counters.notFound++;
              cache.write(key, value ?? NOT_FOUND, t);
            }
          }
          next.forEach((w, i) => {
            if (subscriber.closed) return;
            const key = keys[i]!;
            if (answers.has(key)) {
              const found = answers.get(key);
              deliver(w, found, found === undefined ? 'not-found' : 'hit');
            } else if (outcome === null || outcome.ok) {
              const found = outcome?.value?.get(key);
              deliver(w, found, found === undefined ? 'not-found' : 'fetched');
            } else fail(w, key, outcome.error);
          });
          runNextBatch();
          afterProgress();
        };
        if (toFetch.size === 0) {
          release(null);
          return;
        }
        const ticket: CircuitTicket | null = breaker === undefined ? null : breaker.tryAcquire();
        if (breaker !== undefined && ticket === null) {
          release(refused());
          return;
        }
        active++;
        counters.inFlight++;
        counters.lookups++;
        const fetchKeys = [...toFetch];
        const handle: { cancel?: () => void; finished: boolean } = { finished: false };
        handle.cancel = runWithRetries(`batch of ${fetchKeys.length}`, (signal) => {
          if (options.lookupBatch !== undefined) meter?.add('enrichment-call', 1);
          return lookupBatch(fetchKeys, signal);
        }, policy, scheduler, random, events, (outcome) => {
          handle.finished = true;
          if (handle.cancel !== undefined) cancels.delete(handle.cancel);
          active--;
          counters.inFlight--;
          counters.recordLatency(scheduler.now() - now);
          if (ticket !== null) {
            if (outcome.ok) breaker!.succeeded(ticket);
            else breaker!.failed(ticket);
          }
          try {
            release(outcome);
          } catch (err) {
            subscriber.error(err);
          }
        });
        if (!handle.finished) cancels.add(handle.cancel);
      };

      const onBatchedRecord = (envelope: Envelope<T>, key: string, seq: number): void => {
        if (!beforeHold()) return;
        batch.push({ envelope, seq, key });
        if (batch.length >= batchSize) closeBatch();
        else if (batchTimer === undefined) batchTimer = scheduler.schedule(closeBatch, batchWindowMs);
      };

      const subscription = source.subscribe({
        next: (envelope) => {
          const seq = ordered ? reorder.issue() : -1;
          let key: string;
          try {
            key = keyOf(envelope.value);
          } catch (err) {
            subscriber.error(err);
            return;
          }
          try {
            if (mode === 'async') onAsyncRecord(envelope, key, seq);
            else onBatchedRecord(envelope, key, seq);
          } catch (err) {
            subscriber.error(err);
            return;
          }
          afterProgress();
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => {
          sourceDone = true;
          if (mode === 'batched') closeBatch();
          afterProgress();
        },
      });

      return () => {
        subscription.unsubscribe();
        batchTimer?.unsubscribe();
        for (const cancel of cancels) cancel();
        cancels.clear();
      };
    });
}
