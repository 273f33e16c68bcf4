/**
 * `mad`: a robust z-score against the median and the median absolute deviation of a sliding window.
 *
 * z = 0.6745 · (x − median) / MAD, over the last `windowPoints` points before x, turned into a
 * two-sided Gaussian tail score. Median and MAD ignore up to half the window being outliers, so a burst
 * does not mask itself. When MAD is 0 (a mostly constant series) the mean absolute deviation stands
 * in; when that is 0 too, any departure from the constant scores 1.
 */
import { resolveNumberOptions } from './options.js';
import { gaussianTailScore } from './stats.js';
import type { Detector, DetectorFactory, DetectorState, PointScore } from './types.js';

export const madOptionSpec = {
  /** Points in the sliding window. Default 128. */
  windowPoints: { default: 128, min: 4, max: 100_000, integer: true },
  /** Points learnt before any is scored. Default 30 (at most windowPoints). */
  warmUpPoints: { default: 30, min: 3, max: 100_000, integer: true },
  /** Finding threshold on the score. Default 0.8 (two-sided p = 1e-4, i.e. |robust z| ≈ 3.9; see gaussianTailScore). */
  threshold: { default: 0.8, min: 0, max: 1 },
} as const;

export class MadDetector implements Detector {
  readonly name = 'mad';
  readonly threshold: number;
  readonly #windowPoints: number;
  readonly #warmUpPoints: number;
  /** Arrival order (oldest first) and the same values sorted. */
  #window: number[] = [];
  #sorted: number[] = [];

  constructor(options?: Readonly<Record<string, number>>) {
    const o = resolveNumberOptions('mad', madOptionSpec, options);
    if (o.warmUpPoints > o.windowPoints) {
      throw new RangeError(`mad: option 'warmUpPoints' must be in [3, windowPoints=${o.windowPoints}], got ${o.warmUpPoints}`);
    }
    this.#windowPoints = o.windowPoints;
    this.#warmUpPoints = o.warmUpPoints;
    this.threshold = o.threshold;
  }

  score(timestampMs: number, value: number): number {
    return this.observe(timestampMs, value).score;
  }

  observe(_timestampMs: number, value: number): PointScore {
    if (!Number.isFinite(value)) return { score: 0, direction: 'SHIFT' };
    let result: PointScore = { score: 0, direction: 'HIGH' };
    if (this.#window.length >= this.#warmUpPoints) {
      const median = medianOfSorted(this.#sorted);
      const deviations = this.#sorted.map((v) => Math.abs(v - median)).sort((a, b) => a - b);
      let scale = medianOfSorted(deviations) / 0.6745;
      if (scale === 0) scale = (deviations.reduce((a, b) => a + b, 0) / deviations.length) * 1.2533;
      const diff = value - median;
      const z = scale === 0 ? (diff === 0 ? 0 : Infinity * Math.sign(diff)) : diff / scale;
      result = { score: gaussianTailScore(z), direction: diff >= 0 ? 'HIGH' : 'LOW' };
    }
    this.#learn(value);
    return result;
  }

  #learn(value: number): void {
    this.#window.push(value);
    insertSorted(this.#sorted, value);
    if (this.#window.length > this.#windowPoints) {
      const old = this.#window.shift()!;
      this.#sorted.splice(lowerBound(this.#sorted, old), 1);
    }
  }

  snapshot(): DetectorState {
    return { window: [...this.#window] };
  }

  restore(state: DetectorState): void {
    const window = state['window'];
    if (!Array.isArray(window) || !window.every((v) => typeof v === 'number')) {
      throw new TypeError('mad: restore() needs { window: number[] }');
    }
    this.#window = (window as number[]).slice(-this.#windowPoints);
    this.#sorted = [...this.#window].sort((a, b) => a - b);
  }
}

export const mad: DetectorFactory = (options) => new MadDetector(options);

function medianOfSorted(sorted: readonly number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertSorted(sorted: number[], value: number): void {
  sorted.splice(lowerBound(sorted, value), 0, value);
}
