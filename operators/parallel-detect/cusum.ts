/**
 * `cusum`: two-sided cumulative sum of standardised deviations (Page 1954), for sustained shifts.
 *
 * Each point is standardised against a slow EWMA mean/variance of the points before it (learnt
 * winsorised, as in `ewma-zscore`); S⁺ = max(0, S⁺ + z − k) and S⁻ = max(0, S⁻ − z − k) accumulate
 * drifts larger than k standard deviations. The score is max(S⁺, S⁻) in units of the alarm level h,
 * mapped to [0, 1) with h ↦ 0.5. A sum that passes h restarts at 0, so one shift is one alarm.
 */
import { EwmaZScoreDetector } from './ewma-zscore.js';
import { resolveNumberOptions } from './options.js';
import { alarmRatioScore } from './stats.js';
import type { Detector, DetectorFactory, DetectorState, PointScore } from './types.js';

export const cusumOptionSpec = {
  /** Allowance: the drift ignored, in standard deviations. Default 0.5. */
  k: { default: 0.5, min: 0, max: 100 },
  /** Alarm level of the cumulative sum, in standard deviations. Default 5. */
  h: { default: 5, min: 0, max: 1e6, minExclusive: true },
  /** EWMA weight of the reference mean/variance. Default 0.005. */
  alpha: { default: 0.005, min: 0, max: 1, minExclusive: true },
  /** Points learnt before any is scored. Default 30. */
  warmUpPoints: { default: 30, min: 2, max: 1e6, integer: true },
  /** Finding threshold on the score. Default 0.5 (the sum reached h). */
  threshold: { default: 0.5, min: 0, max: 1 },
} as const;

export class CusumDetector implements Detector {
  readonly name = 'cusum';
  readonly threshold: number;
  readonly #k: number;
  readonly #h: number;
  readonly #reference: EwmaZScoreDetector;
  #high = 0;
  #low = 0;

  constructor(options?: Readonly<Record<string, number>>) {
    const o = resolveNumberOptions('cusum', cusumOptionSpec, options);
    this.#k = o.k;
    this.#h = o.h;
    this.threshold = o.threshold;
    this.#reference = new EwmaZScoreDetector({ alpha: o.alpha, warmUpPoints: o.warmUpPoints, threshold: 1 });
  }

  score(timestampMs: number, value: number): number {
    return this.observe(timestampMs, value).score;
  }

  observe(timestampMs: number, value: number): PointScore {
    if (!Number.isFinite(value)) return { score: 0, direction: 'SHIFT' };
    const ref = this.#reference;
    if (!ref.warm) {
      ref.observe(timestampMs, value);
      return { score: 0, direction: 'HIGH' };
    }
    const z = (value - ref.mean) / ref.std;
    ref.observe(timestampMs, value);
    this.#high = Math.max(0, this.#high + z - this.#k);
    this.#low = Math.max(0, this.#low - z - this.#k);
    const high = this.#high >= this.#low;
    const sum = high ? this.#high : this.#low;
    const result: PointScore = { score: alarmRatioScore(sum / this.#h), direction: high ? 'HIGH' : 'LOW' };
    if (sum >= this.#h) {
      this.#high = 0;
      this.#low = 0;
    }
    return result;
  }

  snapshot(): DetectorState {
    return { high: this.#high, low: this.#low, reference: this.#reference.snapshot() };
  }

  restore(state: DetectorState): void {
    const { high, low, reference } = state as { high?: unknown; low?: unknown; reference?: DetectorState };
    if (typeof high !== 'number' || typeof low !== 'number' || reference === undefined) {
      throw new TypeError('cusum: restore() needs { high, low, reference }');
    }
    this.#reference.restore(reference);
    this.#high = high;
    this.#low = low;
  }
}

export const cusum: DetectorFactory = (options) => new CusumDetector(options);
