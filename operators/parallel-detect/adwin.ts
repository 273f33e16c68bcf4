/**
 * `adwin`: ADaptive WINdowing (Bifet & Gavaldà 2007), a change detector for the mean.
 *
 * Holds the most recent points (at most `maxWindowPoints`) and tests every cut into an older part W₀
 * and a newer part W₁ (every `cutStepPoints` points): a change is declared when |μ₀ − μ₁| exceeds
 * ε = √(2σ²/m · ln(2/δ′)) + 2σ/(3m) · ln(2/δ′), with m the harmonic mean of the part sizes and
 * δ′ = δ / ln n. On a change the older part is dropped. The score is the largest |μ₀ − μ₁| / ε over
 * the cuts, mapped to [0, 1) with 1 ↦ 0.5. This is the bounded, exact-window form of ADWIN (no
 * exponential histogram): O(window / cutStep) per point, memory fixed by `maxWindowPoints`.
 */
import { resolveNumberOptions } from './options.js';
import { alarmRatioScore } from './stats.js';
import type { Detector, DetectorFactory, DetectorState, PointScore } from './types.js';

export const adwinOptionSpec = {
  /** Confidence δ of the test. Default 0.002. */
  delta: { default: 0.002, min: 0, max: 1, minExclusive: true },
  /** Most points held. Default 512. */
  maxWindowPoints: { default: 512, min: 16, max: 100_000, integer: true },
  /** Smallest part on either side of a cut. Default 8. */
  minPartPoints: { default: 8, min: 2, max: 10_000, integer: true },
  /** Cuts are tested every this many points. Default 4. */
  cutStepPoints: { default: 4, min: 1, max: 10_000, integer: true },
  /** Finding threshold on the score. Default 0.5 (a change at confidence δ). */
  threshold: { default: 0.5, min: 0, max: 1 },
} as const;

export class AdwinDetector implements Detector {
  readonly name = 'adwin';
  readonly threshold: number;
  readonly #o: Record<keyof typeof adwinOptionSpec, number>;
  #window: number[] = [];

  constructor(options?: Readonly<Record<string, number>>) {
    this.#o = resolveNumberOptions('adwin', adwinOptionSpec, options);
    this.threshold = this.#o.threshold;
  }

  score(timestampMs: number, value: number): number {
    return this.observe(timestampMs, value).score;
  }

  observe(_timestampMs: number, value: number): PointScore {
    if (!Number.isFinite(value)) return { score: 0, direction: 'SHIFT' };
    const w = this.#window;
    w.push(value);
    if (w.length > this.#o.maxWindowPoints) w.shift();
    const n = w.length;
    const minPart = this.#o.minPartPoints;
    if (n < 2 * minPart) return { score: 0, direction: 'SHIFT' };
    let total = 0;
    let totalSq = 0;
    for (const v of w) {
      total += v;
      totalSq += v * v;
    }
    const mean = total / n;
    const variance = Math.max(0, totalSq / n - mean * mean);
    const sigma = Math.sqrt(variance) || 1e-12;
    const logTerm = Math.log(2 / (this.#o.delta / Math.log(Math.max(n, 3))));
    let bestRatio = 0;
    let bestCut = -1;
    let prefix = 0;
    let i = 0;
    for (let cut = minPart; cut <= n - minPart; cut += this.#o.cutStepPoints) {
      for (; i < cut; i++) prefix += w[i]!;
      const n0 = cut;
      const n1 = n - cut;
      const m = 1 / (1 / n0 + 1 / n1);
      const eps = Math.sqrt((2 * variance * logTerm) / m) + ((2 * sigma) / (3 * m)) * logTerm;
      const ratio = Math.abs(prefix / n0 - (total - prefix) / n1) / eps;
      if (ratio > bestRatio) {
        bestRatio = ratio;
        bestCut = cut;
      }
    }
    if (bestRatio >= 1 && bestCut > 0) this.#window = w.slice(bestCut);
    return { score: alarmRatioScore(bestRatio), direction: 'SHIFT' };
  }

  snapshot(): DetectorState {
    return { window: [...this.#window] };
  }

  restore(state: DetectorState): void {
    const window = state['window'];
    if (!Array.isArray(window) || !window.every((v) => typeof v === 'number')) {
      throw new TypeError('adwin: restore() needs { window: number[] }');
    }
    this.#window = (window as number[]).slice(-this.#o.maxWindowPoints);
  }
}

export const adwin: DetectorFactory = (options) => new AdwinDetector(options);
