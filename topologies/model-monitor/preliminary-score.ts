/**
 * The cheap preliminary anomaly score that drives adaptive sampling: for each record, the largest
 * |z| of its watched fields against an exponentially weighted mean and variance kept per model ×
 * segment × field. It costs a few multiplications per field, sees every record (before sampling),
 * and is not the detector: it only decides which records the detectors get to see.
 *
 * The moments learn slowly (alpha 0.005) and robustly: once warmed up, a point moves them by at most
 * `clipSigmas` (2) standard deviations (Huber-style). With a fast plain EWMA (alpha 0.02, no clip) the
 * heavy-tailed noise inflated every variance and an incident was absorbed into its key's moments
 * within a few dozen records, so affected records scored like normal ones (mean sampling weight
 * 0.49 vs 0.46): adaptive sampling chose 1.1 % of them at a 1 % budget, no better than uniform.
 * Robust and slow, affected records in rare segments are chosen 7 % of the time at that budget
 * (scripts/diagnose-recall.ts, seed 1001, 500k events, 100 incidents).
 *
 * State: per model × segment and per model (bounded: the least recently seen key is forgotten beyond
 * `maxKeys`).
 */
import { inferenceFieldValue } from '../../operators/parallel-detect/index.js';
import type { InferenceEvent } from '../../schemas/index.js';

interface Moments {
  mean: number;
  variance: number;
  seen: number;
}

export class PreliminaryScorer {
  readonly #keys = new Map<string, Moments[]>();

  /**
   * @param fields the fields scored
   * @param alpha weight of each new point, (0, 1). Default 0.005.
   * @param warmup points per key before it scores above 0. Default 20.
   * @param maxKeys model × segment keys held. Default 100 000.
   * @param clipSigmas after warm-up, a point's deviation is clipped to this many standard deviations before it is learnt, > 0. Default 2.
   */
  constructor(
    private readonly fields: readonly string[],
    private readonly alpha = 0.005,
    private readonly warmup = 20,
    private readonly maxKeys = 100_000,
    private readonly clipSigmas = 2,
  ) {}

  /**
   * Largest |z| of `event`'s fields against its key's history; then learns from it. While a
   * model × segment is still warming up, its fields are scored against the model's moments (over all
   * its segments): a rare segment's incident can be over before the segment has 20 records of its own.
   */
  score(event: InferenceEvent): number {
    const own = this.#momentsOf(`${event.model_id}\u0000${event.segment}`);
    const model = this.#momentsOf(`${event.model_id}\u0001`);
    let worst = 0;
    this.fields.forEach((field, i) => {
      const value = inferenceFieldValue(event, field);
      if (value === undefined || !Number.isFinite(value)) return;
      const m = own[i]!;
      const scoring = m.seen >= this.warmup ? m : model[i]!;
      if (scoring.seen >= this.warmup) worst = Math.max(worst, Math.abs(value - scoring.mean) / Math.sqrt(scoring.variance + 1e-12));
      this.#learn(m, value);
      this.#learn(model[i]!, value);
    });
    return worst;
  }

  #learn(m: Moments, value: number): void {
    if (m.seen === 0) m.mean = value;
    const limit = this.clipSigmas * Math.sqrt(m.variance);
    // Warm-up learns every point as it is (the variance starts at 0); afterwards an outlier counts as a
    // point at the clip: heavy tails do not blow the variance up, and an incident is not learnt away.
    const deviation = m.seen >= this.warmup ? Math.max(-limit, Math.min(limit, value - m.mean)) : value - m.mean;
    m.mean += this.alpha * deviation;
    m.variance = (1 - this.alpha) * (m.variance + this.alpha * deviation * deviation);
    m.seen++;
  }

  #momentsOf(key: string): Moments[] {
    let moments = this.#keys.get(key);
    if (moments === undefined) {
      if (this.#keys.size >= this.maxKeys) this.#keys.delete(this.#keys.keys().next().value!);
      moments = this.fields.map(() => ({ mean: 0, variance: 0, seen: 0 }));
    } else {
      this.#keys.delete(key); // re-insert: the Map's order is recency
    }
    this.#keys.set(key, moments);
    return moments;
  }
}

/** Sampling weight from a preliminary |z|: 1 at 3σ, rising with the square; the sampler clamps it. */
export const samplingWeight = (z: number): number => (z / 3) ** 2;
