/**
 * `page-hinkley`: the Page-Hinkley test for a change in mean, both ways.
 *
 * m⁺ accumulates (x − x̄ − δ) and m⁻ accumulates (x̄ − x − δ), where x̄ is the running mean since the
 * last change and everything is in units of the standard deviation learnt in warm-up; the statistic
 * is each sum's rise above its running minimum. The score is the larger statistic in units of the
 * alarm level λ, mapped to [0, 1) with λ ↦ 0.5. An alarm restarts the test (new mean, new scale).
 */
import { resolveNumberOptions } from './options.js';
import { alarmRatioScore, stdFloor } from './stats.js';
import type { Detector, DetectorFactory, DetectorState, PointScore } from './types.js';

export const pageHinkleyOptionSpec = {
  /** Magnitude of change tolerated, in standard deviations. Default 0.1. */
  delta: { default: 0.1, min: 0, max: 100 },
  /** Alarm level λ, in standard deviations. Default 20. */
  lambda: { default: 20, min: 0, max: 1e6, minExclusive: true },
  /** Points that set the scale (and the mean) before any is scored. Default 30. */
  warmUpPoints: { default: 30, min: 2, max: 1e6, integer: true },
  /** Finding threshold on the score. Default 0.5 (the statistic reached λ). */
  threshold: { default: 0.5, min: 0, max: 1 },
} as const;

interface PageHinkleyState {
  count: number;
  mean: number;
  m2: number;
  scale: number;
  up: number;
  upMin: number;
  down: number;
  downMin: number;
}

const fresh = (): PageHinkleyState => ({ count: 0, mean: 0, m2: 0, scale: 0, up: 0, upMin: 0, down: 0, downMin: 0 });

export class PageHinkleyDetector implements Detector {
  readonly name = 'page-hinkley';
  readonly threshold: number;
  readonly #delta: number;
  readonly #lambda: number;
  readonly #warmUpPoints: number;
  #s: PageHinkleyState = fresh();

  constructor(options?: Readonly<Record<string, number>>) {
    const o = resolveNumberOptions('page-hinkley', pageHinkleyOptionSpec, options);
    this.#delta = o.delta;
    this.#lambda = o.lambda;
    this.#warmUpPoints = o.warmUpPoints;
    this.threshold = o.threshold;
  }

  score(timestampMs: number, value: number): number {
    return this.observe(timestampMs, value).score;
  }

  observe(_timestampMs: number, value: number): PointScore {
    if (!Number.isFinite(value)) return { score: 0, direction: 'SHIFT' };
    const s = this.#s;
    if (s.count < this.#warmUpPoints) {
      s.count++;
      const d = value - s.mean;
      s.mean += d / s.count;
      s.m2 += d * (value - s.mean);
      s.scale = Math.max(Math.sqrt(s.count > 1 ? s.m2 / (s.count - 1) : 0), stdFloor(s.mean));
      return { score: 0, direction: 'HIGH' };
    }
    const u = (value - s.mean) / s.scale;
    s.count++;
    s.mean += (value - s.mean) / s.count;
    s.up += u - this.#delta;
    s.upMin = Math.min(s.upMin, s.up);
    s.down += -u - this.#delta;
    s.downMin = Math.min(s.downMin, s.down);
    const upStat = s.up - s.upMin;
    const downStat = s.down - s.downMin;
    const high = upStat >= downStat;
    const stat = high ? upStat : downStat;
    if (stat >= this.#lambda) {
      // Restart on the new regime, keeping the scale learnt in warm-up.
      this.#s = { ...fresh(), count: this.#warmUpPoints, mean: value, scale: s.scale };
    }
    return { score: alarmRatioScore(stat / this.#lambda), direction: high ? 'HIGH' : 'LOW' };
  }

  snapshot(): DetectorState {
    return { ...this.#s };
  }

  restore(state: DetectorState): void {
    const keys = Object.keys(fresh()) as (keyof PageHinkleyState)[];
    if (!keys.every((k) => typeof state[k] === 'number')) {
      throw new TypeError(`page-hinkley: restore() needs numbers ${keys.join(', ')}`);
    }
    this.#s = { ...(state as unknown as PageHinkleyState) };
  }
}

export const pageHinkley: DetectorFactory = (options) => new PageHinkleyDetector(options);
