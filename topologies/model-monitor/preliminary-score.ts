/**
 * The cheap preliminary anomaly score that drives adaptive sampling: for each record, the largest
 * |z| of its watched fields against an exponentially weighted mean and variance kept per model ×
 * segment × field. It costs a few multiplications per field, sees every record (before sampling),
 * and is not the detector: it only decides which records the detectors get to see.
 *
 * State: per model × segment and per model (bounded: the least recently seen key is forgotten beyond
 * `maxKeys`).
 */
import { inferenceFieldValue } from '../../operators/detectors/index.js';
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
   * @param alpha weight of each new point, (0, 1). Default 0.02.
   * @param warmup points per key before it scores above 0. Default 20.
   * @param maxKeys model × segment keys held. Default 100 000.
   */
  constructor(
    private readonly fields: readonly string[],
    private readonly alpha = 0.02,
    private readonly warmup = 20,
    private readonly maxKeys = 100_000,
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
    const deviation = value - m.mean;
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
