/**
 * `multiscale-breakout`: {@link RangeBreakoutDetector}'s break-out evidence on two time scales,
 * added, with repeats suppressed.
 *
 * A value beyond the recent range (the last `rangePoints` points) is suspicious; one beyond every
 * value the series has ever shown is more so. The evidence is E = E_recent + historyWeight · E_all,
 * each E = max(0, 100 · (e + 0.5)) with e the excess beyond that range in units of the range
 * (see `breakoutEvidence`). The history range is a running min/max, O(1) memory, so the detector
 * stays small per key. As in `range-breakout`, a point whose evidence does not beat the largest of
 * the previous `suppressPoints` points has it halved, so an incident alarms once; the score is
 * E / (E + 10) in [0, 1), never saturating.
 *
 * Scores are 0 until `warmUpPoints` points have been learnt, and for non-finite values (not learnt).
 * Defaults are the single configuration evaluated on NAB (see reports/nab.md): no per-series tuning.
 */
import { resolveNumberOptions } from './options.js';
import { breakoutEvidence, RangeBreakoutDetector, suppressedScore } from './range-breakout.js';
import type { Detector, DetectorFactory, DetectorState, PointScore } from './types.js';

export const multiscaleBreakoutOptionSpec = {
  /** Points in the recent range. Default 1500. */
  rangePoints: { default: 1500, min: 2, max: 1e6, integer: true },
  /** Weight of the whole-history break-out relative to the recent one. Default 0.5. */
  historyWeight: { default: 0.5, min: 0, max: 100 },
  /** Points over which a break-out must beat the earlier ones to keep its full score (0 = off). Default 50. */
  suppressPoints: { default: 50, min: 0, max: 1e5, integer: true },
  /** Points learnt before any is scored. Default 100. */
  warmUpPoints: { default: 100, min: 2, max: 1e6, integer: true },
  /** Finding threshold on the score. Default 0.88 (the recent and the all-time edge both just passed). */
  threshold: { default: 0.88, min: 0, max: 1 },
} as const;

type Options = Record<keyof typeof multiscaleBreakoutOptionSpec, number>;

export class MultiscaleBreakoutDetector implements Detector {
  readonly name = 'multiscale-breakout';
  readonly threshold: number;
  readonly #o: Options;
  readonly #recent: RangeBreakoutDetector;
  #count = 0;
  #min = Infinity;
  #max = -Infinity;
  #recentEvidence: number[] = [];

  constructor(options?: Readonly<Record<string, number>>) {
    this.#o = resolveNumberOptions('multiscale-breakout', multiscaleBreakoutOptionSpec, options);
    this.threshold = this.#o.threshold;
    this.#recent = new RangeBreakoutDetector({ rangePoints: this.#o.rangePoints, warmUpPoints: this.#o.warmUpPoints, suppressPoints: 0 });
  }

  score(timestampMs: number, value: number): number {
    return this.observe(timestampMs, value).score;
  }

  observe(timestampMs: number, value: number): PointScore {
    if (!Number.isFinite(value)) return { score: 0, direction: 'SHIFT' };
    const recent = this.#recent.observe(timestampMs, value);
    let result: PointScore = { score: 0, direction: 'HIGH' };
    if (this.#count >= this.#o.warmUpPoints) {
      // Back from the recent view's score to its evidence: s = E / (E + 10) ⇔ E = 10 s / (1 − s).
      const recentEvidence = recent.score >= 1 - Number.EPSILON ? Infinity : (10 * recent.score) / (1 - recent.score);
      const history = breakoutEvidence(value, this.#min, this.#max);
      const evidence = recentEvidence + this.#o.historyWeight * history.evidence;
      result = { score: this.#suppress(evidence), direction: recent.direction };
    }
    this.#count++;
    if (value < this.#min) this.#min = value;
    if (value > this.#max) this.#max = value;
    return result;
  }

  #suppress(evidence: number): number {
    return suppressedScore(this.#recentEvidence, evidence, this.#o.suppressPoints);
  }

  snapshot(): DetectorState {
    return {
      count: this.#count,
      // JSON has no Infinity: an empty history is sent as nulls.
      min: Number.isFinite(this.#min) ? this.#min : null,
      max: Number.isFinite(this.#max) ? this.#max : null,
      recentEvidence: this.#recentEvidence.map((e) => (Number.isFinite(e) ? e : 1e300)),
      recent: this.#recent.snapshot(),
    };
  }

  restore(state: DetectorState): void {
    const { count, min, max, recentEvidence, recent } = state as Record<string, unknown>;
    const numberOrNull = (v: unknown): v is number | null => v === null || typeof v === 'number';
    if (
      typeof count !== 'number' || !numberOrNull(min) || !numberOrNull(max) ||
      !Array.isArray(recentEvidence) || !recentEvidence.every((e) => typeof e === 'number') || typeof recent !== 'object' || recent === null
    ) {
      throw new TypeError('multiscale-breakout: restore() needs { count, min, max, recentEvidence, recent }');
    }
    this.#recent.restore(recent as DetectorState);
    this.#count = count;
    this.#min = min ?? Infinity;
    this.#max = max ?? -Infinity;
    this.#recentEvidence = (recentEvidence as number[]).map((e) => (e >= 1e300 ? Infinity : e)).slice(-this.#o.suppressPoints);
  }
}

export const multiscaleBreakout: DetectorFactory = (options) => new MultiscaleBreakoutDetector(options);
