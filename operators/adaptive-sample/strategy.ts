/**
 * Sampling strategies as plain configuration, validated once and resolved into what a
 * {@link WindowSampler} needs (key scheme, group and weight of a record). Shared by adaptiveSample
 * and banditBudget (whose arms are strategies).
 */
import type { Envelope } from '../../core/envelope.js';
import { checkFunction, checkInteger, checkNumber, checkOneOf } from '../options.js';
import { stratumAllocations, type StratumAllocation } from './allocation.js';
import type { KeyScheme, WindowSamplerConfig } from './window-sampler.js';

/** Reads something from a record; gets the value and its envelope (for key, headers, event time). */
export type RecordFunction<T, R> = (value: T, envelope: Envelope<T>) => R;

/**
 * - `uniform-rate`: each record independently with probability `budget.fraction` (no state; the
 *   efficiency-tuned baseline). `maxRecordsPerWindow` is an optional hard cap per window.
 * - `uniform-reservoir`: a simple random sample of the window's budget.
 * - `stratified`: a reservoir per stratum (`stratumOf`), the budget split by `allocation`.
 * - `adaptive`: a weighted reservoir per shard (`shardOf`), weight = the cheap preliminary score
 *   clamped to [weightFloor, weightCap]: the floor keeps normal traffic visible, the cap bounds how
 *   much more likely than normal one record can be, so a burst of high scores cannot take the
 *   reservoir from everything else (at most weightCap / weightFloor times the normal odds).
 * - `priority`: priority sampling over `weightOf` (e.g. a value whose total you will estimate).
 */
export type SamplingStrategy<T> =
  | { readonly kind: 'uniform-rate'; readonly maxRecordsPerWindow?: number }
  | { readonly kind: 'uniform-reservoir' }
  | {
      readonly kind: 'stratified';
      readonly stratumOf: RecordFunction<T, string>;
      /** How the budget is split among strata. Default 'congressional'. */
      readonly allocation?: StratumAllocation;
      /** Strata held per window; later strata share one overflow stratum. Default 64, range [1, 100 000]. */
      readonly maxStrata?: number;
    }
  | {
      readonly kind: 'adaptive';
      /** The cheap preliminary anomaly score, ≥ 0 (NaN counts as the floor). */
      readonly scoreOf: RecordFunction<T, number>;
      /** Feature shard of a record; one reservoir per shard. Default: a single shard. */
      readonly shardOf?: RecordFunction<T, string>;
      /** Lowest weight, > 0. Default 0.1. */
      readonly weightFloor?: number;
      /** Highest weight, ≥ weightFloor. Default 10. */
      readonly weightCap?: number;
      /** 'a-res' draws a key per record; 'a-expj' skips by exponential jumps (fewer draws). Default 'a-expj'. */
      readonly algorithm?: 'a-res' | 'a-expj';
      /** How the budget is split among shards. Default 'proportional'. */
      readonly allocation?: StratumAllocation;
      /** Shards held per window. Default 64, range [1, 100 000]. */
      readonly maxShards?: number;
    }
  | {
      readonly kind: 'priority';
      /** Weight of a record, > 0 (smaller values are raised to 1e-12). */
      readonly weightOf: RecordFunction<T, number>;
      /** Shard of a record; one priority sample per shard. Default: a single shard. */
      readonly shardOf?: RecordFunction<T, string>;
      /** How the budget is split among shards. Default 'proportional'. */
      readonly allocation?: StratumAllocation;
      /** Shards held per window. Default 64, range [1, 100 000]. */
      readonly maxShards?: number;
    };

/** A budget as a share of the input, or as a number of records per event-time window. */
export type SampleBudget = { readonly fraction: number } | { readonly recordsPerWindow: number };

export interface ResolvedStrategy<T> {
  readonly kind: SamplingStrategy<T>['kind'];
  /** Group (stratum/shard) and weight of a record. Calls user code: may throw. */
  readonly groupOf: (envelope: Envelope<T>) => string;
  readonly weightOf: (envelope: Envelope<T>) => number;
  readonly keyScheme: KeyScheme;
  readonly maxGroups: number;
  readonly allocation: StratumAllocation;
}

const singleGroup = (): string => '';
const unitWeight = (): number => 1;

/** Validates a budget; errors name `op` and the option `name` (`adaptiveSample`, `budget`). */
export function validateBudget(budget: unknown, op: string, name: string): SampleBudget {
  if (typeof budget !== 'object' || budget === null) {
    throw new TypeError(`${op}: option '${name}' must be { fraction } or { recordsPerWindow }`);
  }
  if ('fraction' in budget) {
    const fraction = (budget as { fraction: unknown }).fraction;
    return { fraction: checkNumber(op, `${name}.fraction`, fraction, 0, 1, true) };
  }
  if ('recordsPerWindow' in budget) {
    const records = checkInteger(op, `${name}.recordsPerWindow`, (budget as { recordsPerWindow: unknown }).recordsPerWindow, 0, 10_000_000);
    return { recordsPerWindow: records };
  }
  throw new TypeError(`${op}: option '${name}' must be { fraction } or { recordsPerWindow }`);
}

/** Validates a strategy and resolves it; errors name `op` and the option `name` (`adaptiveSample`, `strategy`). */
export function resolveStrategy<T>(strategy: SamplingStrategy<T>, op: string, name: string): ResolvedStrategy<T> {
  if (typeof strategy !== 'object' || strategy === null) throw new TypeError(`${op}: option '${name}' must be an object with a kind`);
  switch (strategy.kind) {
    case 'uniform-rate':
      if (strategy.maxRecordsPerWindow !== undefined) {
        checkInteger(op, `${name}.maxRecordsPerWindow`, strategy.maxRecordsPerWindow, 0, 10_000_000);
      }
      return { kind: strategy.kind, groupOf: singleGroup, weightOf: unitWeight, keyScheme: 'uniform', maxGroups: 1, allocation: 'equal' };
    case 'uniform-reservoir':
      return { kind: strategy.kind, groupOf: singleGroup, weightOf: unitWeight, keyScheme: 'uniform', maxGroups: 1, allocation: 'equal' };
    case 'stratified': {
      checkFunction(op, `${name}.stratumOf`, strategy.stratumOf, true);
      const stratumOf = strategy.stratumOf;
      return {
        kind: strategy.kind,
        groupOf: (e) => stratumOf(e.value, e),
        weightOf: unitWeight,
        keyScheme: 'uniform',
        maxGroups: checkInteger(op, `${name}.maxStrata`, strategy.maxStrata ?? 64, 1, 100_000),
        allocation: checkOneOf(op, `${name}.allocation`, strategy.allocation ?? 'congressional', stratumAllocations),
      };
    }
    case 'adaptive': {
      checkFunction(op, `${name}.scoreOf`, strategy.scoreOf, true);
      if (strategy.shardOf !== undefined) checkFunction(op, `${name}.shardOf`, strategy.shardOf, true);
      const floor = strategy.weightFloor ?? 0.1;
      const cap = strategy.weightCap ?? 10;
      if (typeof floor !== 'number' || !(floor > 0) || !Number.isFinite(floor)) {
        throw new RangeError(`${op}: option '${name}.weightFloor' must be a finite number > 0, got ${String(floor)}`);
      }
      if (typeof cap !== 'number' || !(cap >= floor) || !Number.isFinite(cap)) {
        throw new RangeError(`${op}: option '${name}.weightCap' must be a finite number ≥ weightFloor (${floor}), got ${String(cap)}`);
      }
      const algorithm = strategy.algorithm ?? 'a-expj';
      if (algorithm !== 'a-res' && algorithm !== 'a-expj') {
        throw new RangeError(`${op}: option '${name}.algorithm' must be 'a-res' or 'a-expj', got ${String(algorithm)}`);
      }
      const scoreOf = strategy.scoreOf;
      const shardOf = strategy.shardOf;
      return {
        kind: strategy.kind,
        groupOf: shardOf === undefined ? singleGroup : (e) => shardOf(e.value, e),
        weightOf: (e) => {
          const score = scoreOf(e.value, e);
          return score >= floor ? Math.min(score, cap) : floor; // NaN lands on the floor
        },
        keyScheme: algorithm,
        maxGroups: checkInteger(op, `${name}.maxShards`, strategy.maxShards ?? 64, 1, 100_000),
        allocation: checkOneOf(op, `${name}.allocation`, strategy.allocation ?? 'proportional', stratumAllocations),
      };
    }
    case 'priority': {
      checkFunction(op, `${name}.weightOf`, strategy.weightOf, true);
      if (strategy.shardOf !== undefined) checkFunction(op, `${name}.shardOf`, strategy.shardOf, true);
      const weightOf = strategy.weightOf;
      const shardOf = strategy.shardOf;
      return {
        kind: strategy.kind,
        groupOf: shardOf === undefined ? singleGroup : (e) => shardOf(e.value, e),
        weightOf: (e) => {
          const weight = weightOf(e.value, e);
          return weight > 1e-12 ? weight : 1e-12;
        },
        keyScheme: 'priority',
        maxGroups: checkInteger(op, `${name}.maxShards`, strategy.maxShards ?? 64, 1, 100_000),
        allocation: checkOneOf(op, `${name}.allocation`, strategy.allocation ?? 'proportional', stratumAllocations),
      };
    }
    default:
      throw new RangeError(
        `${op}: option '${name}.kind' must be one of uniform-rate, uniform-reservoir, stratified, adaptive, priority, got ${String((strategy as { kind: unknown }).kind)}`,
      );
  }
}

/** Records per group reservoir so that a window holds at most `maxHeldRecords`. */
export function capacityPerGroup(budget: SampleBudget, maxHeldRecords: number, maxGroups: number): number {
  const groups = maxGroups === 1 ? 1 : maxGroups + 1; // + 1: the overflow group
  const perGroup = Math.max(1, Math.floor(maxHeldRecords / groups));
  return 'recordsPerWindow' in budget ? Math.max(1, Math.min(budget.recordsPerWindow, perGroup)) : perGroup;
}

export type { WindowSamplerConfig };
