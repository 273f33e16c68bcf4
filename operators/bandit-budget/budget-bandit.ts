/**
 * The budget bandit: how a sampling budget is split among arms (sampling strategies or shards),
 * epoch by epoch, from the mentions each arm produced per unit of cost.
 *
 * Reward model: an arm's mentions in an epoch are Poisson with mean θ_a · cost_a, where cost is
 * what the arm spent (records sampled, or money). θ_a — mentions per unit cost — has a conjugate
 * Gamma(α0 + M_a, β0 + C_a) posterior over the arm's mentions M_a and cost C_a. Each epoch the
 * statistics are discounted by γ before the new epoch's feedback is added (M ← γM + m, C ← γC + c),
 * so old evidence fades and the bandit follows an arm whose yield changes (discounted Thompson
 * sampling, Raj & Kalyani 2017).
 *
 * Why Thompson by default: the budget of an epoch is many pulls at once, and probability matching —
 * each arm's share is the posterior probability that it is the best — splits it smoothly where UCB
 * puts everything on one arm; the Gamma–Poisson posterior takes count rewards with unequal costs
 * as they come, with no rescaling to [0, 1]. UCB1 (discounted: counts are the discounted costs) is
 * available as a deterministic alternative: the whole non-floor budget goes to the arm with the
 * highest index. In both, every arm keeps `floorShare` of the budget so a change is still noticed.
 *
 * Pure: no RxJS; randomness from the injected {@link SeededRandom}.
 */
import type { SeededRandom } from '../../core/random.js';
import { checkInteger, checkNumber } from '../options.js';
import { gammaVariate } from './gamma.js';

export type BanditPolicy = 'thompson' | 'ucb1';

export interface BudgetBanditOptions {
  /** Arm names, unique, 1 to 64 of them. */
  readonly arms: readonly string[];
  /** Default 'thompson'. */
  readonly policy?: BanditPolicy;
  /** γ, weight kept by past evidence per epoch, in (0, 1]; 1 = stationary. Default 0.8. */
  readonly discount?: number;
  /** Share of the budget every arm keeps, in [0, 1 / arms]. Default min(0.05, 1 / arms). */
  readonly floorShare?: number;
  /** α0, prior mentions (Thompson). Default 1, > 0. */
  readonly priorMentions?: number;
  /** β0, prior cost (Thompson). Default 1, > 0. With α0 = 1 the prior mean is 1 mention per unit cost. */
  readonly priorCost?: number;
  /** Posterior draws per allocation to estimate P(arm is best) (Thompson). Default 512, in [1, 100 000]. */
  readonly thompsonDraws?: number;
  /** Exploration constant of the UCB1 index, in mentions per unit cost. Default 1, ≥ 0. */
  readonly ucbExploration?: number;
}

/** One epoch's split: per arm, its share and the posterior mean it was based on. */
export interface ArmShare {
  readonly arm: string;
  /** Share of the budget in [floorShare, 1]; the shares sum to 1. */
  readonly share: number;
  /** Posterior mean (Thompson) or empirical mean (UCB1) of mentions per unit cost. */
  readonly meanMentionsPerCost: number;
}

/** Plain, JSON-serialisable state. */
export interface BudgetBanditSnapshot {
  readonly arms: readonly { readonly arm: string; readonly mentions: number; readonly cost: number; readonly pendingMentions: number; readonly pendingCost: number }[];
  readonly epochs: number;
}

interface ArmState {
  mentions: number;
  cost: number;
  pendingMentions: number;
  pendingCost: number;
}

export class BudgetBandit {
  readonly arms: readonly string[];
  readonly policy: BanditPolicy;
  readonly discount: number;
  readonly floorShare: number;
  readonly #priorMentions: number;
  readonly #priorCost: number;
  readonly #draws: number;
  readonly #exploration: number;
  readonly #state = new Map<string, ArmState>();
  #epochs = 0;

  constructor(options: BudgetBanditOptions, optionPrefix = 'BudgetBandit') {
    const arms = options.arms;
    if (!Array.isArray(arms) || arms.length < 1 || arms.length > 64 || new Set(arms).size !== arms.length) {
      throw new RangeError(`${optionPrefix}: arms must be 1 to 64 unique names, got ${JSON.stringify(arms)}`);
    }
    this.arms = [...arms];
    this.policy = options.policy ?? 'thompson';
    if (this.policy !== 'thompson' && this.policy !== 'ucb1') {
      throw new RangeError(`${optionPrefix}: policy must be 'thompson' or 'ucb1', got ${String(this.policy)}`);
    }
    this.discount = checkNumber(optionPrefix, 'discount', options.discount ?? 0.8, 0, 1, true);
    this.floorShare = checkNumber(optionPrefix, 'floorShare', options.floorShare ?? Math.min(0.05, 1 / arms.length), 0, 1 / arms.length, false);
    this.#priorMentions = checkNumber(optionPrefix, 'priorMentions', options.priorMentions ?? 1, 0, Infinity, true);
    this.#priorCost = checkNumber(optionPrefix, 'priorCost', options.priorCost ?? 1, 0, Infinity, true);
    const draws = checkInteger(optionPrefix, 'thompsonDraws', options.thompsonDraws ?? 512, 1, 100_000);
    this.#draws = draws;
    this.#exploration = checkNumber(optionPrefix, 'ucbExploration', options.ucbExploration ?? 1, 0, Infinity, false);
    for (const arm of this.arms) this.#state.set(arm, { mentions: 0, cost: 0, pendingMentions: 0, pendingCost: 0 });
  }

  /** Epochs ended so far. */
  get epochs(): number {
    return this.#epochs;
  }

  /**
   * Adds feedback for the current epoch. Returns false (and ignores it) for an unknown arm or
   * negative / non-finite numbers: feedback is data from downstream, not a reason to stop.
   */
  recordFeedback(arm: string, mentions: number, cost: number): boolean {
    const state = this.#state.get(arm);
    if (state === undefined || !(mentions >= 0) || !(cost >= 0) || !Number.isFinite(mentions) || !Number.isFinite(cost)) {
      return false;
    }
    state.pendingMentions += mentions;
    state.pendingCost += cost;
    return true;
  }

  /** Ends the epoch: discounts past evidence and folds in the epoch's feedback. */
  endEpoch(): void {
    for (const state of this.#state.values()) {
      state.mentions = this.discount * state.mentions + state.pendingMentions;
      state.cost = this.discount * state.cost + state.pendingCost;
      state.pendingMentions = 0;
      state.pendingCost = 0;
    }
    this.#epochs++;
  }

  /** The shares for the next epoch (they sum to 1; each is at least floorShare). */
  shares(random: SeededRandom): ArmShare[] {
    const states = this.arms.map((arm) => this.#state.get(arm)!);
    const free = 1 - this.floorShare * this.arms.length;
    const best = this.policy === 'thompson' ? this.#probabilityBest(states, random) : this.#ucbBest(states);
    return this.arms.map((arm, i) => {
      const s = states[i]!;
      const meanMentionsPerCost =
        this.policy === 'thompson' ? (this.#priorMentions + s.mentions) / (this.#priorCost + s.cost) : s.cost > 0 ? s.mentions / s.cost : 0;
      return { arm, share: this.floorShare + free * best[i]!, meanMentionsPerCost };
    });
  }

  snapshot(): BudgetBanditSnapshot {
    return { arms: this.arms.map((arm) => ({ arm, ...this.#state.get(arm)! })), epochs: this.#epochs };
  }

  restore(snapshot: BudgetBanditSnapshot): void {
    for (const entry of snapshot.arms) {
      const state = this.#state.get(entry.arm);
      if (state === undefined) continue; // an arm since removed from the configuration
      Object.assign(state, { mentions: entry.mentions, cost: entry.cost, pendingMentions: entry.pendingMentions, pendingCost: entry.pendingCost });
    }
    this.#epochs = snapshot.epochs;
  }

  #probabilityBest(states: readonly ArmState[], random: SeededRandom): number[] {
    const wins = states.map(() => 0);
    for (let draw = 0; draw < this.#draws; draw++) {
      let bestIndex = 0;
      let bestValue = -Infinity;
      states.forEach((s, i) => {
        const theta = gammaVariate(this.#priorMentions + s.mentions, this.#priorCost + s.cost, random);
        if (theta > bestValue) {
          bestValue = theta;
          bestIndex = i;
        }
      });
      wins[bestIndex]!++;
    }
    return wins.map((w) => w / this.#draws);
  }

  /**
   * Batched UCB1: an epoch's free budget is many pulls, so it is handed out in 256 slices, each to
   * the arm whose index is highest counting the slices it already got (water-filling), instead of
   * all to one arm. The exploration term uses the Poisson variance of the pooled rate, μ̄, in place
   * of UCB1's [0, 1] range: index = μ_a + c·sqrt(2·μ̄·ln N / n_a), with n_a the arm's discounted cost.
   */
  #ucbBest(states: readonly ArmState[]): number[] {
    const slices = 256;
    const totalCost = states.reduce((sum, s) => sum + s.cost, 0);
    const totalMentions = states.reduce((sum, s) => sum + s.mentions, 0);
    const pooledRate = totalCost > 0 ? Math.max(totalMentions / totalCost, 1e-9) : 1;
    // Cost of one slice: an epoch's worth of evidence (the discounted sum's steady state) / slices.
    const epochCost = totalCost * (1 - this.discount) || totalCost / Math.max(this.#epochs, 1);
    const sliceCost = epochCost / slices;
    const extra = states.map(() => 0);
    const logN = Math.log(Math.max(totalCost + epochCost, Math.E));
    const given = states.map(() => 0);
    for (let slice = 0; slice < slices; slice++) {
      let bestIndex = 0;
      let bestValue = -Infinity;
      states.forEach((s, i) => {
        const n = s.cost + extra[i]!;
        const value = n > 0 ? s.mentions / Math.max(s.cost, 1e-12) + this.#exploration * Math.sqrt((2 * pooledRate * logN) / n) : Infinity;
        if (value > bestValue) {
          bestValue = value;
          bestIndex = i;
        }
      });
      given[bestIndex]!++;
      extra[bestIndex]! += sliceCost > 0 ? sliceCost : 1;
    }
    return given.map((g) => g / slices);
  }
}

/** Integer records per arm from shares, by largest remainder: they sum to exactly `budget`. */
export function splitBudget(budget: number, shares: readonly number[]): number[] {
  const exact = shares.map((s) => s * budget);
  const counts = exact.map(Math.floor);
  let leftover = budget - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) {
    if (leftover <= 0) break;
    counts[i]!++;
    leftover--;
  }
  return counts;
}
