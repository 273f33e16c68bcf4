/**
 * adaptiveSample — chooses which records go on down the signal path, within a budget per
 * event-time window, by one of five strategies (see {@link SamplingStrategy}): uniform by rate,
 * uniform reservoir, stratified, adaptive (score-weighted reservoir per shard) and priority.
 *
 * Reservoir strategies hold a window's candidates until the watermark closes the window, so they can
 * honour a budget stated as a fraction of a window whose size is not known in advance: at close the
 * window chooses round(fraction · n) records (randomised rounding: never more than ⌈fraction · n⌉),
 * or `recordsPerWindow`, split among strata/shards, and emits them in arrival order.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { dropRecord, withValue, type Envelope } from '../core/envelope.js';
import {
  assertLateRecordPolicy,
  assertWindowSizeMs,
  isWindowComplete,
  OperatorWatermark,
  routeLateRecord,
  tumblingWindowFor,
  type LateRecordPolicy,
} from '../core/event-time/index.js';
import { assertSeededRandom, SeededRandom } from '../core/random.js';
import { WindowSampler } from './adaptive-sample/window-sampler.js';
import {
  capacityPerGroup,
  resolveStrategy,
  validateBudget,
  type SampleBudget,
  type SamplingStrategy,
} from './adaptive-sample/strategy.js';
import type { Sampled } from './adaptive-sample/sampled.js';
import { assertSnapshotVersion, assertStateHandle, type OperatorStateHandle } from '../core/state.js';
import { checkInteger } from './options.js';

const op = 'adaptiveSample';

export type { Sampled, SampleBudget, SamplingStrategy };

export interface AdaptiveSampleOptions<T> {
  /** How records are chosen. Required. */
  readonly strategy: SamplingStrategy<T>;
  /** How many: `{ fraction }` in (0, 1] of each window's input, or `{ recordsPerWindow }`. Required. */
  readonly budget: SampleBudget;
  /** Event-time window length in ms (tumbling, aligned to the epoch). Default 60 000, integer ≥ 1. */
  readonly windowMs?: number;
  /**
   * Records held per open window (reservoir strategies), split evenly among the strata/shards the
   * strategy allows: a stratum holds at most min(budget, maxHeldRecords / (maxStrata + 1)).
   * Default 100 000, range [1, 10 000 000].
   */
  readonly maxHeldRecords?: number;
  /**
   * Windows open at once (records arrive out of order by up to the allowed lateness). Opening one
   * more closes the earliest early (its stragglers then count as late). Default 4, range [1, 10 000].
   */
  readonly maxOpenWindows?: number;
  /** A record whose window has already closed: 'drop' (default) or a side-output function that owns it. */
  readonly lateRecords?: LateRecordPolicy<T>;
  /** Seeded randomness; each subscription draws from its own clone. Default `SeededRandom.fromSeed(0)`. */
  readonly random?: SeededRandom;
  /** Written to `Sampled.strategy`. Default the strategy kind ('adaptive', …). Bandit arms use their names. */
  readonly label?: string;
  /**
   * Snapshot/restore of the state that outlives the records in flight: the position of the seeded
   * random generator. Restore before the first record. Default: none.
   */
  readonly state?: OperatorStateHandle;
}

/**
 * Samples records within a budget per event-time window; emits each chosen record wrapped in
 * {@link Sampled} (the record, its inclusion weight, the strategy that chose it) and settles every
 * other record as dropped.
 *
 * ```
 * uniform-reservoir, budget { recordsPerWindow: 1 }, windowMs 10, watermark = event time:
 * source: --a(t=1)--b(t=4)--c(t=12)--|
 * result: ------------------ b' ------(c')|      b' = { record: b, inclusionWeight: 2, … }
 *                            └ window [0,10) closes when c's watermark 12 passes 9; a is dropped
 * ```
 *
 * State: per open window — a reservoir per stratum/shard (bounded by maxHeldRecords, maxStrata /
 * maxShards, maxOpenWindows); `uniform-rate` is stateless but for a count per window. Time-based:
 * windows close by the envelopes' `watermarkMs`; on complete every open window is flushed.
 *
 * Delivery: every input envelope is either emitted once (wrapped) or settled once as dropped;
 * records whose window has closed go to `lateRecords`. Reservoir strategies delay records by up to
 * a window and emit in arrival order within a window. On an upstream error, or when a callback
 * (`scoreOf`, `stratumOf`, …) throws, the error is passed on at once and held records are neither
 * emitted nor settled: their offsets stay uncommitted, so they are replayed after the restart.
 *
 * Snapshot (`state` option, {@link OperatorStateHandle}): `{ operator: 'adaptiveSample', version: 1,
 * random }` — the random generator's position, so a restored subscription draws what the original
 * would have drawn next. Records held in open windows (and `uniform-rate`'s per-window counts) are not
 * in it: held records are uncommitted and are read again after a restart, and counting them again
 * rebuilds the window. Taken at a window boundary, a snapshot restored into a new subscription
 * continues exactly as the original would have.
 *
 * @example
 * ```ts
 * const sampled = from(envelopes).pipe(
 *   adaptiveSample<InferenceEvent>({
 *     strategy: { kind: 'adaptive', scoreOf: (event) => event.preliminaryScore, shardOf: (event) => event.segment },
 *     budget: { fraction: 0.05 },
 *     windowMs: 10_000,
 *     random: SeededRandom.fromSeed(42),
 *   }),
 * );
 * ```
 */
export function adaptiveSample<T>(options: AdaptiveSampleOptions<T>): OperatorFunction<Envelope<T>, Envelope<Sampled<T>>> {
  if (typeof options !== 'object' || options === null) throw new TypeError('adaptiveSample: options are required');
  const strategy = resolveStrategy(options.strategy, op, 'strategy');
  const budget = validateBudget(options.budget, op, 'budget');
  const windowMs = options.windowMs ?? 60_000;
  assertWindowSizeMs(windowMs, 'adaptiveSample: windowMs');
  const maxHeldRecords = checkInteger(op, 'maxHeldRecords', options.maxHeldRecords ?? 100_000, 1, 10_000_000);
  const maxOpenWindows = checkInteger(op, 'maxOpenWindows', options.maxOpenWindows ?? 4, 1, 10_000);
  assertLateRecordPolicy(options.lateRecords, 'adaptiveSample: lateRecords');
  assertSeededRandom(options.random, 'adaptiveSample: random');
  assertStateHandle(options.state, 'adaptiveSample: state');
  const label = options.label ?? strategy.kind;
  if (typeof label !== 'string' || label === '') throw new TypeError('adaptiveSample: label must be a non-empty string');
  if (strategy.kind === 'uniform-rate' && !('fraction' in budget)) {
    throw new RangeError("adaptiveSample: strategy 'uniform-rate' needs budget { fraction } (its rate)");
  }
  const rateCap =
    options.strategy.kind === 'uniform-rate' ? (options.strategy.maxRecordsPerWindow ?? Infinity) : Infinity;
  const fraction = 'fraction' in budget ? budget.fraction : undefined;
  const samplerConfig = {
    keyScheme: strategy.keyScheme,
    capacityPerGroup: capacityPerGroup(budget, maxHeldRecords, strategy.maxGroups),
    maxGroups: strategy.maxGroups,
    allocation: strategy.allocation,
  };
  const spec = { sizeMs: windowMs };
  const baseRandom = options.random ?? SeededRandom.fromSeed(0);

  return (source) =>
    new Observable<Envelope<Sampled<T>>>((subscriber) => {
      let random = baseRandom.clone();
      let recordsSeen = 0;
      const watermark = new OperatorWatermark();
      // Reservoir strategies: window start → sampler. uniform-rate: window start → records chosen.
      const windows = new Map<number, WindowSampler<Envelope<T>>>();
      const rateCounts = new Map<number, number>();
      // Windows closed early (maxOpenWindows) end at or before this; their stragglers count as late,
      // so a window is never sampled twice.
      let forcedClosedThroughMs = -Infinity;
      // Start of the earliest open window (reservoir or rate count); Infinity when none is open.
      let earliestStartMs = Infinity;

      const emit = (envelope: Envelope<T>, inclusionWeight: number, group: string | undefined): void => {
        const sampled: Sampled<T> = group === undefined || group === ''
          ? { record: envelope.value, inclusionWeight, strategy: label }
          : { record: envelope.value, inclusionWeight, strategy: label, group };
        subscriber.next(withValue(envelope, sampled));
      };

      const closeWindow = (startMs: number): void => {
        const sampler = windows.get(startMs);
        if (sampler === undefined) return;
        windows.delete(startMs);
        const windowBudget =
          fraction === undefined
            ? (budget as { recordsPerWindow: number }).recordsPerWindow
            : Math.floor(fraction * sampler.seen + random.nextFloat());
        const { chosen, discarded } = sampler.close(windowBudget);
        for (const envelope of discarded) dropRecord(envelope);
        for (const { item, inclusionWeight, group } of chosen) {
          if (subscriber.closed) return;
          emit(item, inclusionWeight, group);
        }
      };

      // The watermark advances on nearly every record; the open windows are looked at only when it
      // reaches the earliest one's end (sorting them on every advance was the sampler's hottest spot).
      const closeCompleteWindows = (): void => {
        if (!isWindowComplete({ startMs: earliestStartMs, endMs: earliestStartMs + windowMs }, watermark.current)) return;
        const starts = [...windows.keys(), ...rateCounts.keys()].sort((a, b) => a - b);
        for (const startMs of starts) {
          if (!isWindowComplete({ startMs, endMs: startMs + windowMs }, watermark.current)) break;
          closeWindow(startMs);
          rateCounts.delete(startMs);
        }
        earliestStartMs = Infinity;
        for (const startMs of windows.keys()) if (startMs < earliestStartMs) earliestStartMs = startMs;
        for (const startMs of rateCounts.keys()) if (startMs < earliestStartMs) earliestStartMs = startMs;
      };

      const sampleAtRate = (envelope: Envelope<T>): void => {
        const window = tumblingWindowFor(envelope.eventTimeMs, spec);
        // A window's count is forgotten when it closes: a straggler must not open a fresh count for
        // it (that would let a closed window take a second helping of its budget).
        if (isWindowComplete(window, watermark.current)) {
          routeLateRecord(envelope, options.lateRecords);
          return;
        }
        const { startMs } = window;
        const counted = rateCounts.get(startMs);
        if (counted === undefined) {
          rateCounts.set(startMs, 0);
          if (startMs < earliestStartMs) earliestStartMs = startMs;
        }
        const count = counted ?? 0;
        if (random.nextFloat() < fraction! && count < rateCap) {
          rateCounts.set(startMs, count + 1);
          emit(envelope, 1 / fraction!, undefined);
        } else {
          dropRecord(envelope);
        }
      };

      const offer = (envelope: Envelope<T>): void => {
        const window = tumblingWindowFor(envelope.eventTimeMs, spec);
        if (isWindowComplete(window, watermark.current) || window.endMs <= forcedClosedThroughMs) {
          routeLateRecord(envelope, options.lateRecords);
          return;
        }
        const group = strategy.groupOf(envelope);
        const weight = strategy.weightOf(envelope);
        let sampler = windows.get(window.startMs);
        if (sampler === undefined) {
          if (windows.size >= maxOpenWindows) {
            let earliestMs = Infinity;
            for (const startMs of windows.keys()) if (startMs < earliestMs) earliestMs = startMs;
            forcedClosedThroughMs = Math.max(forcedClosedThroughMs, earliestMs + windowMs);
            closeWindow(earliestMs);
          }
          sampler = new WindowSampler<Envelope<T>>(samplerConfig, random);
          windows.set(window.startMs, sampler);
          if (window.startMs < earliestStartMs) earliestStartMs = window.startMs;
        }
        const released = sampler.offer(envelope, group, weight);
        if (released !== undefined) dropRecord(released);
      };

      options.state?.attach(
        'adaptiveSample',
        () => ({ operator: 'adaptiveSample', version: 1, random: random.snapshot() }),
        (snapshot) => {
          assertSnapshotVersion(snapshot, 'adaptiveSample', 1);
          if (recordsSeen > 0) throw new Error('adaptiveSample: restore() must come before the first record');
          const state = snapshot['random'];
          if (!Array.isArray(state) || !state.every((n) => typeof n === 'number')) {
            throw new TypeError('adaptiveSample: restore() needs { random: number[] }');
          }
          random = SeededRandom.fromState(state as number[]);
        },
      );

      const subscription = source.subscribe({
        next: (envelope) => {
          recordsSeen++;
          try {
            if (strategy.kind === 'uniform-rate') sampleAtRate(envelope);
            else offer(envelope);
            if (watermark.advance(envelope.watermarkMs)) closeCompleteWindows();
          } catch (error) {
            subscriber.error(error);
          }
        },
        error: (error) => subscriber.error(error),
        complete: () => {
          const starts = [...windows.keys()].sort((a, b) => a - b);
          for (const startMs of starts) closeWindow(startMs);
          subscriber.complete();
        },
      });
      return () => subscription.unsubscribe();
    });
}
