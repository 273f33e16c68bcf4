/** What a sampler emits: the record, its inclusion weight and the strategy that chose it. */

/**
 * A sampled record. Downstream estimates of totals weight each record by `inclusionWeight`
 * (Σ inclusionWeight · f(record) over the sample estimates Σ f over the input); detectors' threshold
 * tuning weights by it too.
 */
export interface Sampled<T> {
  readonly record: T;
  /** Horvitz–Thompson multiplier, ≥ 1: 1 / (probability this record was included). */
  readonly inclusionWeight: number;
  /** The strategy (or bandit arm) that chose it: the sampler's `label`, by default its strategy kind. */
  readonly strategy: string;
  /** The stratum or shard it was sampled in, for strategies that have them. */
  readonly group?: string;
}
