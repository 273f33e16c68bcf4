/**
 * banditBudget — splits a sampling budget among arms (sampling strategies, or one strategy per
 * shard) per event-time epoch, learning from downstream feedback which arm yields the most mentions
 * per unit of cost. The learning is {@link BudgetBandit} (discounted Thompson sampling over a
 * Gamma–Poisson posterior by default, UCB1 as an option, a floor share per arm).
 *
 * Each record of an epoch is offered to every arm's sampler; at the close of the epoch each arm
 * chooses its allocated number of records, and the union is emitted, each record once, attributed
 * to the first arm (in `arms` order) that chose it. The union never exceeds the epoch's budget.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { dropRecord, withValue, type Envelope } from '../core/envelope.js';
import {
  assertLateRecordPolicy,
  assertWindowSizeMs,
  epochIndex,
  epochWindow,
  isWindowComplete,
  OperatorWatermark,
  routeLateRecord,
  type LateRecordPolicy,
} from '../core/event-time/index.js';
import { assertSeededRandom, SeededRandom } from '../core/random.js';
import { BudgetBandit, splitBudget, type ArmShare, type BanditPolicy, type BudgetBanditSnapshot } from './bandit-budget/budget-bandit.js';
import { WindowSampler } from './adaptive-sample/window-sampler.js';
import { capacityPerGroup, resolveStrategy, type ResolvedStrategy, type SamplingStrategy } from './adaptive-sample/strategy.js';
import type { Sampled } from './adaptive-sample/sampled.js';
import { assertSnapshotVersion, assertStateHandle, type OperatorStateHandle } from '../core/state.js';
import { checkInteger, checkNumber } from './options.js';

const op = 'banditBudget';

export type { Sampled };

/** An arm: a named sampling strategy (any but 'uniform-rate', which has no per-epoch budget). */
export interface BanditArm<T> {
  readonly name: string;
  readonly strategy: SamplingStrategy<T>;
}

/** Downstream's report for an arm: mentions produced and what they cost (records, or money). */
export interface ArmFeedback {
  readonly arm: string;
  readonly mentions: number;
  readonly cost: number;
}

/** The decision for one epoch, emitted through `onAllocation` when the epoch closes. */
export interface BudgetAllocation {
  readonly epochStartMs: number;
  readonly epochEndMs: number;
  readonly policy: BanditPolicy;
  /** Records the epoch could choose in total, and how many it saw. */
  readonly budgetRecords: number;
  readonly seenRecords: number;
  readonly arms: readonly (ArmShare & { readonly records: number; readonly emitted: number })[];
}

export interface BanditBudgetOptions<T> {
  /** The arms, 1 to 64, unique names. Required. */
  readonly arms: readonly BanditArm<T>[];
  /** Per epoch: `{ recordsPerEpoch }` (integer ≥ 0) or `{ fraction }` in (0, 1] of the epoch's input. Required. */
  readonly budget: { readonly recordsPerEpoch: number } | { readonly fraction: number };
  /** Epoch length in event-time ms (tumbling, aligned to the epoch). Default 60 000, integer ≥ 1. */
  readonly epochMs?: number;
  /** Mentions and cost per arm from downstream. Subscribed while the operator is; errors stop it. Required. */
  readonly feedback: Observable<ArmFeedback>;
  /** Default 'thompson' (see BudgetBandit for why). */
  readonly policy?: BanditPolicy;
  /** Weight past evidence keeps per epoch, in (0, 1]. Default 0.8 (evidence halves in ≈ 3 epochs). */
  readonly discount?: number;
  /** Share every arm keeps, in [0, 1 / arms]. Default min(0.05, 1 / arms). */
  readonly floorShare?: number;
  /** Records held per open epoch over all arms. Default 100 000, range [1, 10 000 000]. */
  readonly maxHeldRecords?: number;
  /** Epochs open at once; opening one more closes the earliest early. Default 2, range [1, 10 000]. */
  readonly maxOpenEpochs?: number;
  /** Side output for allocation decisions (write them to a topic, log them). Default: none. */
  readonly onAllocation?: (allocation: BudgetAllocation) => void;
  /** A record whose epoch has closed: 'drop' (default) or a side-output function that owns it. */
  readonly lateRecords?: LateRecordPolicy<T>;
  /** Seeded randomness; each subscription draws from its own clone. Default `SeededRandom.fromSeed(0)`. */
  readonly random?: SeededRandom;
  /**
   * Snapshot/restore of the bandit's learning (discounted per-arm statistics, epochs) and the random
   * generator's position. Restore before the first record. Default: none.
   */
  readonly state?: OperatorStateHandle;
}

interface OpenEpoch<T> {
  readonly index: number;
  readonly shares: ArmShare[];
  readonly samplers: WindowSampler<Envelope<T>>[];
  /** Per held record: how many arms hold it. */
  readonly holders: Map<Envelope<T>, number>;
  seen: number;
}

/**
 * Allocates a sampling budget among arms by a bandit per event-time epoch; emits the chosen records
 * as {@link Sampled} (strategy = arm name) and settles the rest as dropped.
 *
 * ```
 * arms A, B; budget { recordsPerEpoch: 2 }; epochMs 10; feedback: A yields, B does not
 * source:   --a(1)--b(2)--c(3)--d(12)--e(25)--|
 * feedback: ------------------------A:5------
 * result:   ------------------x,y---------z,w|    epoch [0,10) closes at d; allocation logged
 * ```
 *
 * State: the bandit's discounted statistics per arm (snapshot/restore on {@link BudgetBandit}), and
 * per open epoch a reservoir per arm (bounded by maxHeldRecords, maxOpenEpochs). Time-based: epochs
 * close by the envelopes' `watermarkMs`; feedback counts toward the epoch open at the bandit when
 * it arrives; on complete every open epoch is flushed.
 *
 * Delivery: every input envelope is emitted once or settled once as dropped (or handed to
 * `lateRecords`); records are delayed by up to an epoch and emitted in arrival order per arm. On an
 * error (source, feedback, or a throwing strategy callback) the error passes on at once and held
 * records stay unsettled, to be replayed.
 *
 * Snapshot (`state` option, {@link OperatorStateHandle}): `{ operator: 'banditBudget', version: 1,
 * bandit, random }` — `bandit` is {@link BudgetBanditSnapshot} (what the bandit has learnt, the part
 * worth keeping across restarts), `random` the generator's position. Records held in open epochs are
 * not in it: they are uncommitted and are read again after a restart. Taken at an epoch boundary, a
 * restored subscription continues exactly as the original would have.
 *
 * @example
 * ```ts
 * const feedback = new Subject<ArmFeedback>(); // downstream: mentions per arm
 * const sampled = from(envelopes).pipe(
 *   banditBudget<Event>({
 *     arms: [
 *       { name: 'uniform', strategy: { kind: 'uniform-reservoir' } },
 *       { name: 'adaptive', strategy: { kind: 'adaptive', scoreOf: (event) => event.score } },
 *     ],
 *     budget: { recordsPerEpoch: 10 },
 *     epochMs: 1000,
 *     feedback,
 *     random: SeededRandom.fromSeed(7),
 *   }),
 * );
 * ```
 */
export function banditBudget<T>(options: BanditBudgetOptions<T>): OperatorFunction<Envelope<T>, Envelope<Sampled<T>>> {
  if (typeof options !== 'object' || options === null) throw new TypeError('banditBudget: options are required');
  const arms = options.arms;
  if (!Array.isArray(arms) || arms.length < 1) throw new RangeError('banditBudget: arms must be a non-empty array of { name, strategy }');
  const names = arms.map((arm, i) => {
    if (typeof arm?.name !== 'string' || arm.name === '') throw new TypeError(`banditBudget: arms[${i}].name must be a non-empty string`);
    return arm.name;
  });
  const strategies: ResolvedStrategy<T>[] = arms.map((arm, i) => {
    const resolved = resolveStrategy(arm.strategy, op, `arms[${i}].strategy`);
    if (resolved.kind === 'uniform-rate') {
      throw new RangeError(`banditBudget: arms[${i}].strategy cannot be 'uniform-rate' (no per-epoch budget); use 'uniform-reservoir'`);
    }
    return resolved;
  });
  // Validates arms (unique, ≤ 64), policy, discount and floorShare with the same messages the operator uses.
  new BudgetBandit({ arms: names, policy: options.policy, discount: options.discount, floorShare: options.floorShare }, 'banditBudget');
  const budget = options.budget as { recordsPerEpoch?: unknown; fraction?: unknown } | undefined;
  let recordsPerEpoch: number | undefined;
  let fraction: number | undefined;
  if (budget !== undefined && budget !== null && 'recordsPerEpoch' in budget) {
    recordsPerEpoch = checkInteger(op, 'budget.recordsPerEpoch', budget.recordsPerEpoch, 0, Number.MAX_SAFE_INTEGER);
  } else if (budget !== undefined && budget !== null && 'fraction' in budget) {
    fraction = checkNumber(op, 'budget.fraction', budget.fraction, 0, 1, true);
  } else {
    throw new TypeError('banditBudget: budget must be { recordsPerEpoch } or { fraction }');
  }
  const epochMs = options.epochMs ?? 60_000;
  assertWindowSizeMs(epochMs, 'banditBudget: epochMs');
  if (typeof options.feedback?.subscribe !== 'function') throw new TypeError('banditBudget: feedback must be an Observable<ArmFeedback>');
  const maxHeldRecords = checkInteger(op, 'maxHeldRecords', options.maxHeldRecords ?? 100_000, 1, 10_000_000);
  const maxOpenEpochs = checkInteger(op, 'maxOpenEpochs', options.maxOpenEpochs ?? 2, 1, 10_000);
  if (options.onAllocation !== undefined && typeof options.onAllocation !== 'function') {
    throw new TypeError('banditBudget: onAllocation must be a function (allocation) => void');
  }
  assertLateRecordPolicy(options.lateRecords, 'banditBudget: lateRecords');
  assertSeededRandom(options.random, 'banditBudget: random');
  assertStateHandle(options.state, 'banditBudget: state');
  const heldPerArm = Math.max(1, Math.floor(maxHeldRecords / arms.length));
  const samplerConfigs = strategies.map((s) => ({
    keyScheme: s.keyScheme,
    capacityPerGroup: capacityPerGroup(
      recordsPerEpoch === undefined ? { fraction: fraction! } : { recordsPerWindow: recordsPerEpoch },
      heldPerArm,
      s.maxGroups,
    ),
    maxGroups: s.maxGroups,
    allocation: s.allocation,
  }));
  const baseRandom = options.random ?? SeededRandom.fromSeed(0);

  return (source) =>
    new Observable<Envelope<Sampled<T>>>((subscriber) => {
      let random = baseRandom.clone();
      let recordsSeen = 0;
      const bandit = new BudgetBandit({ arms: names, policy: options.policy, discount: options.discount, floorShare: options.floorShare });
      const watermark = new OperatorWatermark();
      const epochs = new Map<number, OpenEpoch<T>>();
      let forcedClosedThroughIndex = -Infinity;

      const release = (epoch: OpenEpoch<T>, envelope: Envelope<T>): void => {
        const holders = epoch.holders.get(envelope)! - 1;
        if (holders > 0) epoch.holders.set(envelope, holders);
        else {
          epoch.holders.delete(envelope);
          dropRecord(envelope);
        }
      };

      const closeEpoch = (index: number): void => {
        const epoch = epochs.get(index);
        if (epoch === undefined) return;
        epochs.delete(index);
        const budgetRecords = recordsPerEpoch ?? Math.floor(fraction! * epoch.seen + random.nextFloat());
        const perArm = splitBudget(budgetRecords, epoch.shares.map((s) => s.share));
        const emitted = names.map(() => 0);
        const chosenBy = new Map<Envelope<T>, { arm: number; inclusionWeight: number; group: string }>();
        const arrival: Envelope<T>[] = [];
        epoch.samplers.forEach((sampler, arm) => {
          const { chosen, discarded } = sampler.close(perArm[arm]!);
          for (const envelope of discarded) release(epoch, envelope);
          for (const { item, inclusionWeight, group } of chosen) {
            if (chosenBy.has(item)) continue;
            chosenBy.set(item, { arm, inclusionWeight, group });
            arrival.push(item);
          }
        });
        // Every arm has now chosen or released each record, so what is left in `holders` is exactly
        // the chosen records (a record chosen by several arms is emitted once, for the first).
        epoch.holders.clear();
        const window = epochWindow(index, epochMs);
        for (const envelope of arrival) {
          const { arm, inclusionWeight, group } = chosenBy.get(envelope)!;
          emitted[arm]!++;
          if (subscriber.closed) continue;
          const sampled: Sampled<T> = group === ''
            ? { record: envelope.value, inclusionWeight, strategy: names[arm]! }
            : { record: envelope.value, inclusionWeight, strategy: names[arm]!, group };
          subscriber.next(withValue(envelope, sampled));
        }
        options.onAllocation?.({
          epochStartMs: window.startMs,
          epochEndMs: window.endMs,
          policy: bandit.policy,
          budgetRecords,
          seenRecords: epoch.seen,
          arms: epoch.shares.map((share, arm) => ({ ...share, records: perArm[arm]!, emitted: emitted[arm]! })),
        });
        bandit.endEpoch();
      };

      const closeCompleteEpochs = (): void => {
        for (const index of [...epochs.keys()].sort((a, b) => a - b)) {
          if (!isWindowComplete(epochWindow(index, epochMs), watermark.current)) break;
          closeEpoch(index);
        }
      };

      const offer = (envelope: Envelope<T>): void => {
        const index = epochIndex(envelope.eventTimeMs, epochMs);
        if (isWindowComplete(epochWindow(index, epochMs), watermark.current) || index <= forcedClosedThroughIndex) {
          routeLateRecord(envelope, options.lateRecords);
          return;
        }
        let epoch = epochs.get(index);
        if (epoch === undefined) {
          if (epochs.size >= maxOpenEpochs) {
            const earliest = Math.min(...epochs.keys());
            forcedClosedThroughIndex = Math.max(forcedClosedThroughIndex, earliest);
            closeEpoch(earliest);
          }
          epoch = {
            index,
            shares: bandit.shares(random),
            samplers: samplerConfigs.map((config) => new WindowSampler<Envelope<T>>(config, random)),
            holders: new Map(),
            seen: 0,
          };
          epochs.set(index, epoch);
        }
        // Compute every arm's group and weight first: a throwing callback must not leave a partial hold.
        const placements = strategies.map((s) => ({ group: s.groupOf(envelope), weight: s.weightOf(envelope) }));
        epoch.seen++;
        epoch.holders.set(envelope, arms.length);
        placements.forEach(({ group, weight }, arm) => {
          const released = epoch.samplers[arm]!.offer(envelope, group, weight);
          if (released !== undefined) release(epoch, released);
        });
      };

      options.state?.attach(
        'banditBudget',
        () => ({ operator: 'banditBudget', version: 1, bandit: bandit.snapshot(), random: random.snapshot() }),
        (snapshot) => {
          assertSnapshotVersion(snapshot, 'banditBudget', 1);
          if (recordsSeen > 0) throw new Error('banditBudget: restore() must come before the first record');
          const state = snapshot['random'];
          const learnt = snapshot['bandit'] as BudgetBanditSnapshot | undefined;
          if (!Array.isArray(state) || !state.every((n) => typeof n === 'number') || !Array.isArray(learnt?.arms)) {
            throw new TypeError('banditBudget: restore() needs { bandit: { arms, epochs }, random: number[] }');
          }
          bandit.restore(learnt);
          random = SeededRandom.fromState(state as number[]);
        },
      );

      const feedbackSubscription = options.feedback.subscribe({
        next: (feedback) => {
          bandit.recordFeedback(feedback?.arm, feedback?.mentions, feedback?.cost);
        },
        error: (error) => subscriber.error(error),
      });
      const subscription = source.subscribe({
        next: (envelope) => {
          recordsSeen++;
          try {
            offer(envelope);
            if (watermark.advance(envelope.watermarkMs)) closeCompleteEpochs();
          } catch (error) {
            subscriber.error(error);
          }
        },
        error: (error) => subscriber.error(error),
        complete: () => {
          try {
            for (const index of [...epochs.keys()].sort((a, b) => a - b)) closeEpoch(index);
            subscriber.complete();
          } catch (error) {
            subscriber.error(error);
          }
        },
      });
      return () => {
        subscription.unsubscribe();
        feedbackSubscription.unsubscribe();
      };
    });
}
