/**
 * One event-time window of a reservoir strategy: a {@link TopKeyReservoir} per group (stratum or
 * shard), and at close the budget split among groups and inclusion weights computed.
 *
 * Inclusion weight = the Horvitz–Thompson multiplier: Σ over the sample of weight · f(record)
 * estimates Σ over the window's input of f(record).
 * - uniform keys:   n_h / k_h (a simple random sample of k_h out of n_h);
 * - A-Res keys:     1 / (1 − exp(−w·τ)), τ = −(k+1)-th largest key — the rank-conditioning estimator
 *                   for exponential ranks (Cohen & Kaplan, "Bottom-k sketches", PODC 2007);
 * - priority keys:  max(1, τ / w), τ = the (k+1)-th largest priority (Duffield, Lund & Thorup,
 *                   "Priority sampling for estimation of arbitrary subset sums", JACM 2007).
 * When a group chose everything it saw, every weight is 1.
 *
 * Pure: no RxJS; randomness from the injected {@link SeededRandom}.
 */
import type { SeededRandom } from '../../core/random.js';
import { TopKeyReservoir } from './top-key-reservoir.js';
import { allocateBudget, sharesFor, type StratumAllocation } from './allocation.js';

export type KeyScheme = 'uniform' | 'a-res' | 'a-expj' | 'priority';

export interface WindowSamplerConfig {
  readonly keyScheme: KeyScheme;
  /** Records each group's reservoir may hold. */
  readonly capacityPerGroup: number;
  /** Distinct groups held; records of further groups go to {@link overflowGroup}. */
  readonly maxGroups: number;
  readonly allocation: StratumAllocation;
}

/** The group that takes records once `maxGroups` groups exist. */
export const overflowGroup = '(other)';

export interface ChosenRecord<T> {
  readonly item: T;
  readonly group: string;
  readonly inclusionWeight: number;
}

interface Held<T> {
  readonly item: T;
  readonly weight: number;
  readonly sequence: number;
}

interface Group<T> {
  readonly reservoir: TopKeyReservoir<Held<T>>;
  seen: number;
  /** A-ExpJ: weight still to skip before the next item enters; undefined = draw a new jump. */
  skipWeight: number | undefined;
  /** A-ExpJ: total weight skipped since the last item entered (their keys are below the min held). */
  skippedWeight: number;
}

export class WindowSampler<T> {
  readonly #config: WindowSamplerConfig;
  readonly #random: SeededRandom;
  readonly #groups = new Map<string, Group<T>>();
  #sequence = 0;
  #seen = 0;

  constructor(config: WindowSamplerConfig, random: SeededRandom) {
    this.#config = config;
    this.#random = random;
  }

  /** Records offered to this window so far. */
  get seen(): number {
    return this.#seen;
  }

  /** Records held right now (bounded by maxGroups × capacityPerGroup). */
  get held(): number {
    let held = 0;
    for (const group of this.#groups.values()) held += group.reservoir.size;
    return held;
  }

  /**
   * Offers one record of `weight` (> 0; ignored by uniform keys) to `groupKey`. Returns the record
   * that is no longer held — the offered one if it was rejected, an evicted one — or undefined.
   */
  offer(item: T, groupKey: string, weight: number): T | undefined {
    this.#seen++;
    const group = this.#groupFor(groupKey);
    group.seen++;
    const sequence = this.#sequence++;
    const reservoir = group.reservoir;
    const random = this.#random;
    let logKey: number;
    switch (this.#config.keyScheme) {
      case 'uniform':
        logKey = Math.log(random.nextOpenFloat());
        break;
      case 'a-res':
        logKey = Math.log(random.nextOpenFloat()) / weight;
        break;
      case 'priority':
        logKey = Math.log(weight) - Math.log(random.nextOpenFloat());
        break;
      case 'a-expj': {
        if (!reservoir.full) {
          logKey = Math.log(random.nextOpenFloat()) / weight;
          break;
        }
        // Efraimidis–Spirakis exponential jumps: skip X_w = ln r / ln T_w of weight, then the item
        // that crosses enters with a key drawn uniformly above the threshold: r2 ∈ (T_w^w, 1).
        const logThreshold = reservoir.minLogKey;
        group.skipWeight ??= logThreshold < 0 ? Math.log(random.nextOpenFloat()) / logThreshold : 0;
        group.skipWeight -= weight;
        if (group.skipWeight > 0) {
          group.skippedWeight += weight;
          return item;
        }
        group.skipWeight = undefined;
        group.skippedWeight = 0;
        const floor = Math.exp(logThreshold * weight);
        const r2 = floor + (1 - floor) * random.nextOpenFloat();
        logKey = Math.max(Math.log(r2) / weight, logThreshold);
        if (logKey === logThreshold) logKey = logThreshold + Number.EPSILON * Math.max(1, -logThreshold);
        break;
      }
    }
    const held: Held<T> = { item, weight, sequence }; // after the skip: most records of a full window never get here
    return reservoir.offer(held, logKey)?.item;
  }

  /**
   * Closes the window: chooses at most `budget` records split among groups by the allocation, and
   * returns them in arrival order with their inclusion weights, plus every other held record.
   */
  close(budget: number): { chosen: ChosenRecord<T>[]; discarded: T[] } {
    const names = [...this.#groups.keys()];
    const groups = [...this.#groups.values()];
    const seen = groups.map((g) => g.seen);
    // Several groups: round the shares at random (allocation.ts says why), and correct each weight for
    // that draw — a group whose share was 0.1 record and that got 1 was included with probability 0.1.
    const randomised = groups.length > 1;
    const perGroup = allocateBudget(budget, seen, groups.map((g) => g.reservoir.size), this.#config.allocation, randomised ? () => this.#random.nextFloat() : undefined);
    const expected = sharesFor(seen, this.#config.allocation).map((share) => share * budget);
    const chosen: (ChosenRecord<T> & { sequence: number })[] = [];
    const discarded: T[] = [];
    groups.forEach((group, i) => {
      const k = perGroup[i]!;
      if (group.skippedWeight > 0) {
        // Skipped records never drew keys, but the estimator needs the largest key discarded. Their
        // keys are independent and below the min held key T, so their max is T·V^(1/W) for the
        // weight W skipped since T became the min: one draw stands in for all of them.
        group.reservoir.noteDiscarded(group.reservoir.minLogKey + Math.log(this.#random.nextOpenFloat()) / group.skippedWeight);
      }
      const drained = group.reservoir.drain(k);
      for (const held of drained.discarded) discarded.push(held.item);
      const everything = k >= group.seen;
      // k is the rounded-up or rounded-down share (within one record of it): the records' unconditional
      // inclusion probability scales by expected / k. (Water-filling can move k further: then keep k's.)
      const share = expected[i]!;
      const rounding = randomised && k > 0 && share > 0 && share < group.seen && Math.abs(k - share) < 1 ? k / share : 1;
      for (const { item: held } of drained.chosen) {
        chosen.push({
          item: held.item,
          group: names[i]!,
          sequence: held.sequence,
          inclusionWeight: rounding * (everything ? 1 : this.#inclusionWeight(held.weight, k, group.seen, drained.thresholdLogKey)),
        });
      }
    });
    this.#groups.clear();
    chosen.sort((a, b) => a.sequence - b.sequence);
    return { chosen: chosen.map(({ item, group, inclusionWeight }) => ({ item, group, inclusionWeight })), discarded };
  }

  #inclusionWeight(weight: number, k: number, seen: number, thresholdLogKey: number): number {
    if (thresholdLogKey === -Infinity) return 1;
    switch (this.#config.keyScheme) {
      case 'uniform':
        return seen / k;
      case 'a-res':
      case 'a-expj':
        return 1 / -Math.expm1(weight * thresholdLogKey);
      case 'priority':
        return Math.max(1, Math.exp(thresholdLogKey - Math.log(weight)));
    }
  }

  #groupFor(groupKey: string): Group<T> {
    let group = this.#groups.get(groupKey);
    if (group === undefined) {
      const key = this.#groups.size >= this.#config.maxGroups ? overflowGroup : groupKey;
      group = this.#groups.get(key);
      if (group === undefined) {
        group = { reservoir: new TopKeyReservoir(this.#config.capacityPerGroup), seen: 0, skipWeight: undefined, skippedWeight: 0 };
        this.#groups.set(key, group);
      }
    }
    return group;
  }
}
