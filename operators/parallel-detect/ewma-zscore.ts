/**
 * `ewma-zscore`: a robust z-score on an exponentially weighted mean and variance.
 *
 * Warm-up learns a plain mean and variance (Welford) from the first `warmUpPoints` points and scores
 * them 0. After that each point is scored by its z against the EWMA mean/variance of the points before
 * it, turned into a two-sided Gaussian tail score, then learnt — winsorised to mean ± clipSigma·σ so
 * that a single outlier cannot inflate the variance and mask the next one. A level shift is still
 * absorbed: each clipped point widens the variance until the new level is normal.
 */
import { resolveNumberOptions } from './options.js';
import { gaussianTailScore, stdFloor } from './stats.js';
import type { Detector, DetectorFactory, DetectorState, PointScore } from './types.js';

export const ewmaZScoreOptionSpec = {
  /** Weight of the newest point in the EWMA, (0, 1]. Default 0.01 (a memory of ~100 points). */
  alpha: { default: 0.01, min: 0, max: 1, minExclusive: true },
  /** Points learnt before any is scored. Default 30. */
  warmUpPoints: { default: 30, min: 2, max: 1e6, integer: true },
  /** Winsorising bound for learning, in standard deviations. Default 3. */
  clipSigma: { default: 3, min: 0.5, max: 1e3 },
  /** Finding threshold on the score. Default 0.8 (two-sided p = 1e-4, i.e. |z| ≈ 3.9; see gaussianTailScore). */
  threshold: { default: 0.8, min: 0, max: 1 },
} as const;

interface EwmaZScoreState {
  count: number;
  mean: number;
  variance: number;
  /** Welford's sum of squared deviations, during warm-up. */
  m2: number;
}

export class EwmaZScoreDetector implements Detector {
  readonly name = 'ewma-zscore';
  readonly threshold: number;
  readonly #alpha: number;
  readonly #warmUpPoints: number;
  readonly #clipSigma: number;
  #state: EwmaZScoreState = { count: 0, mean: 0, variance: 0, m2: 0 };

  constructor(options?: Readonly<Record<string, number>>) {
    const o = resolveNumberOptions('ewma-zscore', ewmaZScoreOptionSpec, options);
    this.#alpha = o.alpha;
    this.#warmUpPoints = o.warmUpPoints;
    this.#clipSigma = o.clipSigma;
    this.threshold = o.threshold;
  }

  /** True once warm-up is over and points are scored. */
  get warm(): boolean {
    return this.#state.count >= this.#warmUpPoints;
  }

  /** The current reference mean (of the points learnt so far). */
  get mean(): number {
    return this.#state.mean;
  }

  /** The current reference standard deviation, never below a tiny floor relative to the mean. */
  get std(): number {
    return Math.max(Math.sqrt(this.#state.variance), stdFloor(this.#state.mean));
  }

  score(timestampMs: number, value: number): number {
    return this.observe(timestampMs, value).score;
  }

  observe(_timestampMs: number, value: number): PointScore {
    if (!Number.isFinite(value)) return { score: 0, direction: 'SHIFT' };
    const s = this.#state;
    if (s.count < this.#warmUpPoints) {
      s.count++;
      const delta = value - s.mean;
      s.mean += delta / s.count;
      s.m2 += delta * (value - s.mean);
      s.variance = s.count > 1 ? s.m2 / (s.count - 1) : 0;
      return { score: 0, direction: delta >= 0 ? 'HIGH' : 'LOW' };
    }
    const std = Math.max(Math.sqrt(s.variance), stdFloor(s.mean));
    const z = (value - s.mean) / std;
    const score = gaussianTailScore(z);
    const bound = this.#clipSigma * std;
    const learnt = Math.min(s.mean + bound, Math.max(s.mean - bound, value));
    const diff = learnt - s.mean;
    const increment = this.#alpha * diff;
    s.mean += increment;
    s.variance = (1 - this.#alpha) * (s.variance + diff * increment);
    s.count++;
    return { score, direction: z >= 0 ? 'HIGH' : 'LOW' };
  }

  snapshot(): DetectorState {
    return { ...this.#state };
  }

  restore(state: DetectorState): void {
    const { count, mean, variance, m2 } = state as Partial<EwmaZScoreState>;
    if (![count, mean, variance, m2].every((v) => typeof v === 'number')) {
      throw new TypeError('ewma-zscore: restore() needs { count, mean, variance, m2 } numbers');
    }
    this.#state = { count: count!, mean: mean!, variance: variance!, m2: m2! };
  }
}

export const ewmaZScore: DetectorFactory = (options) => new EwmaZScoreDetector(options);
