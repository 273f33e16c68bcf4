/**
 * keyedPartition: runs `work` on each record in one of N lanes chosen by key, one record at a time per
 * lane, so that a key's records are processed in order while different keys run side by side.
 *
 * Keys reach lanes through a consistent-hash ring with virtual nodes (optionally with bounded loads,
 * counted in active keys or in recently finished records: see `boundedLoadMeasure`); an idle lane
 * steals a whole key's queue from the busiest lane, so a hot key does not leave one lane overloaded
 * beside idle ones. `routing: 'static'` with `stealing: false` is the efficiency-tuned
 * baseline (hash mod N) the lab compares against. Per-lane load (records, busy time) and the hot keys
 * (top-k by recent rate) are readable through a {@link PartitionProbe}. With `workerPool`, a lane's
 * work runs on piscina worker threads (CPU-bound detectors): each record's value is posted to the
 * pool and comes back as the envelope's new value, one record per lane at a time, so per-key order
 * is kept.
 *
 * ```
 * source:  --a1--b1--a2--c1--|        (letter = key; work takes 2 frames)
 * lanes:   a, c → lane 0; b → lane 1
 * result:  ----a1--b1a2--c1-|         (a2 waits for a1; b1 does not wait for anyone)
 * ```
 *
 * State: stateful per key while the key has records queued or in flight (its lane); bounded by
 * `maxQueuedPerLane` per lane. Nothing survives a restart but counters: queued records are still
 * unsettled, so they are re-read from Kafka.
 *
 * Snapshot (`state` option, {@link OperatorStateHandle}): `{ operator: 'keyedPartition', version: 1,
 * ring, lanes, hotKeys }` — the ring's configuration (lane count, routing, virtual nodes: the ring
 * itself is rebuilt from it, and a restore into a different one is refused; the bounded-load settings
 * are recorded too but may differ, as they keep no state), each lane's
 * load counters (records, busy time, steals) and the hot-key counters. Queued and in-flight records
 * are not in it: they are uncommitted and read again; nor are the 'recent-records' loads, which start
 * again from zero (they fade within a half-life anyway). A restore can come at any time.
 *
 * Delivery: every input is passed to `work` exactly once and every work result is emitted; per-key
 * order is kept, order across keys is not. `work` owns the settlement of the envelope it is given
 * (it returns it, changed or not). A `work` that throws or rejects is a fault: the stream errors.
 * Backpressure: `onPressure(true)` when a lane holds `pauseAtQueuedPerLane` records, `onPressure(false)`
 * when every lane is back to half of that; a lane past `maxQueuedPerLane` errors the stream.
 *
 * @example
 * const probe = new PartitionProbe();
 * const out = from(envelopes).pipe(
 *   keyedPartition({ lanes: 4, work: (e) => withValue(e, e.value * 2), probe }),
 * );
 * // CPU-bound work on worker threads (the module's default export maps a value to a value):
 * const scored = from(envelopes).pipe(
 *   keyedPartition({ lanes: 4, workerPool: { filename: new URL('./score-worker.mjs', import.meta.url).href } }),
 * );
 */
import { asyncScheduler, isObservable, Observable, take, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { withValue, type Envelope } from '../core/envelope.js';
import { HotKeyTracker, type HotKey, type HotKeyTrackerSnapshot } from './keyed-partition/hot-keys.js';
import { LaneTable, type LaneCounters, type LaneStats } from './keyed-partition/lane-table.js';
import { assertSnapshotVersion, assertStateHandle, type OperatorStateHandle } from '../core/state.js';
import { checkFunction, checkInteger, checkNumber, checkOneOf } from './options.js';

export type LaneWork<T, U> = (
  envelope: Envelope<T>,
  lane: number,
) => Envelope<U> | PromiseLike<Envelope<U>> | Observable<Envelope<U>>;

/**
 * Worker threads for CPU-bound lane work (piscina). The worker module's default export receives a
 * record's value (structured-cloned) and returns, or resolves, the new value.
 */
export interface LaneWorkerPool {
  /** The worker module: an absolute path or file: URL. A `.ts` worker needs `execArgv: ['--import', 'tsx']`. */
  readonly filename: string;
  /** Worker threads, [1, 1024], started as work needs them and kept until unsubscribe. Default min(lanes, available parallelism). */
  readonly maxThreads?: number;
  /** Node flags for the workers. Default: the parent's `process.execArgv`. */
  readonly execArgv?: readonly string[];
}

export interface KeyedPartitionOptions<T, U> {
  /**
   * Work done on each record in its lane; returns the record (first value, if an Observable).
   * Required unless `workerPool` is given (then it must be absent).
   */
  readonly work?: LaneWork<T, U>;
  /**
   * Run each record's work on a piscina worker pool instead: the record's value is posted to the
   * pool and the envelope goes on with the value the worker returns. Per-key order is kept (a lane
   * posts one record at a time); at most `lanes` tasks run at once. A worker that throws errors the
   * stream, like a `work` that throws. The pool lives as long as the subscription. Default: none.
   */
  readonly workerPool?: LaneWorkerPool;
  /** Number of lanes, [1, 1024]. Default 4. */
  readonly lanes?: number;
  /** The routing key of a record. Default: the envelope's key, '' when null. */
  readonly keyOf?: (envelope: Envelope<T>) => string;
  /** 'consistent' (hash ring with virtual nodes) or 'static' (hash mod N, the baseline). Default 'consistent'. */
  readonly routing?: 'consistent' | 'static';
  /** Virtual nodes per lane on the ring, [1, 4096]. Default 128. */
  readonly virtualNodesPerLane?: number;
  /** ε of consistent hashing with bounded loads, (0, 10], or null for the plain ring. Default null. */
  readonly boundedLoadEpsilon?: number | null;
  /**
   * What bounded loads count as a lane's load. 'active-keys' (the textbook rule): keys queued or in
   * flight, at most ⌈(1+ε)·activeKeys/N⌉ per lane; it acts only while lanes have queues. 'recent-records':
   * records the lane finished lately (decayed, half-life `loadHalfLifeRecords`) plus what it holds; a
   * key that becomes active goes to the first lane on its ring walk below (1+ε) × the mean, so a hot key
   * spreads even when fast work leaves every queue empty. Only inactive keys are routed, so per-key
   * order holds either way. Default 'active-keys'.
   */
  readonly boundedLoadMeasure?: 'active-keys' | 'recent-records';
  /** 'recent-records': records routed after which a finished record counts half, [1, 1e9]. Default 1000. */
  readonly loadHalfLifeRecords?: number;
  /** Whether an idle lane steals a key's queue from the busiest lane. Default true ('consistent'), false ('static'). */
  readonly stealing?: boolean;
  /** A lane is stolen from only with at least this many records queued, [1, 1e6]. Default 2. */
  readonly minStealQueued?: number;
  /** `onPressure(true)` when a lane's queue reaches this many records, [1, 1e6]. Default 1000. */
  readonly pauseAtQueuedPerLane?: number;
  /** A lane's queue beyond this many records errors the stream (upstream ignored the pause), [1, 1e7]. Default 10000. */
  readonly maxQueuedPerLane?: number;
  /** Told when upstream should pause (true) and may resume (false). */
  readonly onPressure?: (paused: boolean) => void;
  /** Where per-lane load and hot keys can be read. */
  readonly probe?: PartitionProbe;
  /** Hot keys reported by the probe (top-k), [0, 1000]. Default 10. */
  readonly hotKeyCount?: number;
  /** Clock for busy time. Default asyncScheduler. */
  readonly scheduler?: SchedulerLike;
  /** Snapshot/restore of lane load counters and hot keys (see "Snapshot" above). Default: none. */
  readonly state?: OperatorStateHandle;
}

/** Reads per-lane load and hot keys of the subscription it was passed to (the latest one). */
export class PartitionProbe {
  #lanes: () => LaneStats[] = () => [];
  #hotKeys: () => HotKey[] = () => [];

  /** @internal called by keyedPartition on subscribe. */
  attach(lanes: () => LaneStats[], hotKeys: () => HotKey[]): void {
    this.#lanes = lanes;
    this.#hotKeys = hotKeys;
  }

  lanes(): LaneStats[] {
    return this.#lanes();
  }

  hotKeys(): HotKey[] {
    return this.#hotKeys();
  }
}

export class LaneOverflowError extends Error {
  constructor(lane: number, limit: number) {
    super(`keyedPartition: lane ${lane} holds more than maxQueuedPerLane=${limit} records: upstream did not pause on onPressure(true)`);
    this.name = 'LaneOverflowError';
  }
}

const op = 'keyedPartition';

export function keyedPartition<T, U>(options: KeyedPartitionOptions<T, U>): OperatorFunction<Envelope<T>, Envelope<U>> {
  const pool = options.workerPool;
  if (pool !== undefined) {
    if (options.work !== undefined) throw new TypeError(`${op}: give either option 'work' or option 'workerPool', not both`);
    if (typeof pool !== 'object' || pool === null || typeof pool.filename !== 'string' || pool.filename === '') {
      throw new TypeError(`${op}: option 'workerPool' must be { filename: string, maxThreads?, execArgv? }, got ${String(pool)}`);
    }
  }
  checkFunction(op, 'work', options.work, pool === undefined);
  checkFunction(op, 'keyOf', options.keyOf, false);
  checkFunction(op, 'onPressure', options.onPressure, false);
  const laneCount = checkInteger(op, 'lanes', options.lanes ?? 4, 1, 1024);
  const routing = checkOneOf(op, 'routing', options.routing ?? 'consistent', ['consistent', 'static'] as const);
  const virtualNodesPerLane = checkInteger(op, 'virtualNodesPerLane', options.virtualNodesPerLane ?? 128, 1, 4096);
  const epsilon = options.boundedLoadEpsilon ?? null;
  if (epsilon !== null) checkNumber(op, 'boundedLoadEpsilon', epsilon, 0, 10, true);
  const boundedLoadMeasure = checkOneOf(op, 'boundedLoadMeasure', options.boundedLoadMeasure ?? 'active-keys', ['active-keys', 'recent-records'] as const);
  const loadHalfLifeRecords = checkInteger(op, 'loadHalfLifeRecords', options.loadHalfLifeRecords ?? 1000, 1, 1e9);
  const stealing = options.stealing ?? routing === 'consistent';
  const minStealQueued = checkInteger(op, 'minStealQueued', options.minStealQueued ?? 2, 1, 1e6);
  const pauseAt = checkInteger(op, 'pauseAtQueuedPerLane', options.pauseAtQueuedPerLane ?? 1000, 1, 1e6);
  const maxQueued = checkInteger(op, 'maxQueuedPerLane', options.maxQueuedPerLane ?? 10_000, pauseAt, 1e7);
  const hotKeyCount = checkInteger(op, 'hotKeyCount', options.hotKeyCount ?? 10, 0, 1000);
  assertStateHandle(options.state, `${op}: option 'state'`);
  const keyOf = options.keyOf ?? ((e: Envelope<T>) => e.key ?? '');
  const scheduler = options.scheduler ?? asyncScheduler;
  const poolThreads =
    pool === undefined ? 0 : checkInteger(op, 'workerPool.maxThreads', pool.maxThreads ?? Math.min(laneCount, availableParallelism()), 1, 1024);
  const { onPressure, probe } = options;

  return (source) =>
    new Observable<Envelope<U>>((subscriber) => {
      let piscina: Piscina | undefined;
      const work: LaneWork<T, U> =
        options.work ??
        ((envelope) => {
          piscina ??= new Piscina({
            filename: pool!.filename,
            minThreads: 0,
            maxThreads: poolThreads,
            // Threads live as long as the subscription (destroyed in the teardown). Piscina's default
            // (idleTimeout 0) ends a thread whenever it is idle for a moment and starts another for the
            // next record: a module load per lull (hundreds of ms with tsx), and threads come and go.
            idleTimeout: Infinity,
            ...(pool!.execArgv === undefined ? {} : { execArgv: [...pool!.execArgv] }),
          });
          return (piscina.run(envelope.value) as Promise<U>).then((value) => withValue(envelope, value));
        });
      const table = new LaneTable<Envelope<T>>({ laneCount, routing, virtualNodesPerLane, boundedLoadEpsilon: epsilon, boundedLoadMeasure, loadHalfLifeRecords, stealing, minStealQueued });
      const hot = new HotKeyTracker(Math.max(4 * hotKeyCount, 16));
      probe?.attach(() => table.stats(), () => hot.top(hotKeyCount));
      // Lanes, routing and virtual nodes fix where each key's home is and what a lane's counters mean;
      // the bounded-load rule only chooses among lanes when a key is routed and keeps nothing in the
      // snapshot, so a restore under another rule (or from before the rule had a measure) is accepted.
      const ringIdentity = { lanes: laneCount, routing, virtualNodesPerLane };
      const ring = { ...ringIdentity, boundedLoadEpsilon: epsilon, ...(epsilon === null ? {} : { boundedLoadMeasure, loadHalfLifeRecords }) };
      options.state?.attach(
        op,
        () => ({ operator: op, version: 1, ring, lanes: table.snapshotCounters(), hotKeys: hot.snapshot() }),
        (snapshot) => {
          assertSnapshotVersion(snapshot, op, 1);
          const saved = snapshot['ring'] as Partial<typeof ringIdentity> | undefined;
          const savedIdentity = { lanes: saved?.lanes, routing: saved?.routing, virtualNodesPerLane: saved?.virtualNodesPerLane };
          if (JSON.stringify(savedIdentity) !== JSON.stringify(ringIdentity)) {
            throw new RangeError(`${op}: the snapshot's ring ${JSON.stringify(savedIdentity)} differs from this operator's ${JSON.stringify(ringIdentity)}`);
          }
          table.restoreCounters(snapshot['lanes'] as LaneCounters[]);
          hot.restore(snapshot['hotKeys'] as HotKeyTrackerSnapshot);
        },
      );
      const inner = new Set<Subscription>();
      let sourceDone = false;
      let inFlight = 0;
      let pumping = false;
      let pumpAgain = false;
      let paused = false;

      const finish = (lane: number, startedMs: number, result: Envelope<U>): void => {
        inFlight--;
        table.done(lane, scheduler.now() - startedMs);
        subscriber.next(result);
        pump();
      };
      const fail = (err: unknown): void => subscriber.error(err);

      const start = (lane: number, envelope: Envelope<T>): boolean => {
        const startedMs = scheduler.now();
        inFlight++;
        const result = work(envelope, lane);
        if (isObservable(result)) {
          let got = false;
          let ended = false;
          // The callbacks may run before subscribe() returns, so they reach the subscription through a holder.
          const holder: { sub?: Subscription } = {};
          holder.sub = result.pipe(take(1)).subscribe({
            next: (value) => {
              got = true;
              finish(lane, startedMs, value);
            },
            error: (err: unknown) => {
              ended = true;
              fail(err);
            },
            complete: () => {
              ended = true;
              if (holder.sub !== undefined) inner.delete(holder.sub);
              if (!got) fail(new Error(`${op}: work for lane ${lane} completed without a result`));
            },
          });
          if (!ended) inner.add(holder.sub);
          return false;
        }
        if (isPromiseLike(result)) {
          result.then(
            (value) => {
              if (!subscriber.closed) finish(lane, startedMs, value);
            },
            (err: unknown) => {
              if (!subscriber.closed) fail(err);
            },
          );
          return false;
        }
        inFlight--;
        table.done(lane, scheduler.now() - startedMs);
        subscriber.next(result);
        return true;
      };

      function pump(): void {
        if (pumping) {
          pumpAgain = true;
          return;
        }
        pumping = true;
        try {
          do {
            pumpAgain = false;
            for (let lane = 0; lane < laneCount && !subscriber.closed; lane++) {
              let next = table.take(lane);
              while (next !== undefined && !subscriber.closed) {
                const synchronous = start(lane, next.record);
                next = synchronous ? table.take(lane) : undefined;
              }
            }
          } while (pumpAgain && !subscriber.closed);
        } catch (err) {
          subscriber.error(err);
        } finally {
          pumping = false;
        }
        if (subscriber.closed) return;
        if (paused && everyLaneBelow(Math.floor(pauseAt / 2))) {
          paused = false;
          onPressure?.(false);
        }
        if (sourceDone && inFlight === 0 && table.totalQueued === 0) subscriber.complete();
      }

      const everyLaneBelow = (limit: number): boolean => {
        for (let lane = 0; lane < laneCount; lane++) if (table.queued(lane) > limit) return false;
        return true;
      };

      const sourceSubscription = source.subscribe({
        next: (envelope) => {
          let key: string;
          try {
            key = keyOf(envelope);
          } catch (err) {
            subscriber.error(err);
            return;
          }
          hot.record(key);
          const lane = table.enqueue(key, envelope);
          const queued = table.queued(lane);
          if (queued > maxQueued) {
            subscriber.error(new LaneOverflowError(lane, maxQueued));
            return;
          }
          if (!paused && queued >= pauseAt) {
            paused = true;
            onPressure?.(true);
          }
          pump();
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => {
          sourceDone = true;
          pump();
        },
      });

      return () => {
        sourceSubscription.unsubscribe();
        for (const sub of inner) sub.unsubscribe();
        inner.clear();
        // Tasks still running finish in their threads; their results are ignored (subscriber closed).
        void piscina?.destroy().catch(() => {});
      };
    });
}

function isPromiseLike<V>(value: unknown): value is PromiseLike<V> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
