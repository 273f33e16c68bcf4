/**
 * `range-breakout`: how far a point breaks out of the range of the recent past, with repeats
 * suppressed.
 *
 * Many incidents in monitoring data (and most of NAB's labelled windows) start with a value the
 * series has not reached for a long time. This detector keeps the minimum and maximum of the last
 * `rangePoints` points (monotonic deques, O(1) amortised) and measures a point's excess beyond them
 * in units of that range: e = max(x − max, min − x) / (max − min), from −0.5 (the middle of the range)
 * through 0 (touching an edge) upwards. The score is a monotone map of e to [0, 1): s = E / (E + 10)
 * with E = 100 · (e + 0.5), so an edge scores 0.833 and a break-out by a whole range 0.94; it never
 * saturates, so thresholds keep their resolution and scores compare across series of any scale.
 *
 * Suppression: an alarm should fire once per incident. A point whose evidence E does not exceed the
 * largest E of the previous `suppressPoints` points has its score halved (the evidence, before the
 * map), so the first break-out of an incident outranks the ones that follow it.
 *
 * A constant window (max = min) gives e = 0 for the constant and a full break-out for anything else.
 * Scores are 0 until `warmUpPoints` points have been learnt, and for non-finite values (not learnt).
 * Defaults are the single configuration evaluated on NAB (see reports/nab.md): no per-series tuning.
 */
import { resolveNumberOptions } from './options.js';
import type { Detector, DetectorFactory, DetectorState, PointScore } from './types.js';

export const rangeBreakoutOptionSpec = {
  /** Points whose range a new point is compared with. Default 1500. */
  rangePoints: { default: 1500, min: 2, max: 1e6, integer: true },
  /** Points over which a break-out must beat the earlier ones to keep its full score (0 = off). Default 50. */
  suppressPoints: { default: 50, min: 0, max: 1e5, integer: true },
  /** Points learnt before any is scored. Default 100. */
  warmUpPoints: { default: 100, min: 2, max: 1e6, integer: true },
  /** Finding threshold on the score. Default 0.84 (just beyond an edge of the range). */
  threshold: { default: 0.84, min: 0, max: 1 },
} as const;

type Options = Record<keyof typeof rangeBreakoutOptionSpec, number>;

/** Evidence → score: monotone, 0 ↦ 0, never reaching 1 (infinite evidence ↦ 1 − ε). */
export const evidenceScore = (evidence: number): number =>
  Number.isFinite(evidence) ? evidence / (evidence + 10) : 1 - Number.EPSILON;

/**
 * The break-out evidence E = max(0, 100 · (e + 0.5)) of `value` against the range [min, max], with
 * e = max(value − max, min − value) / (max − min); infinite when the range is empty and the value
 * leaves it. `high` is true when the value is nearer the top.
 */
/**
 * The score of `evidence`, halved unless it beats every evidence of the last `limit` points (NAB
 * rewards only an incident's first alarm and charges for repeats); remembers it in `recent`.
 */
export function suppressedScore(recent: number[], evidence: number, limit: number): number {
  if (limit === 0) return evidenceScore(evidence);
  let recentMax = 0;
  for (const earlier of recent) if (earlier > recentMax) recentMax = earlier;
  recent.push(evidence);
  if (recent.length > limit) recent.shift();
  return evidenceScore(evidence > recentMax ? evidence : evidence / 2);
}

export function breakoutEvidence(value: number, min: number, max: number): { evidence: number; high: boolean } {
  const range = max - min;
  const high = value - max >= min - value;
  const excess = high ? value - max : min - value;
  const relativeExcess = range > 0 ? excess / range : excess === 0 ? 0 : excess > 0 ? Infinity : -0.5;
  return { evidence: Math.max(0, 100 * (relativeExcess + 0.5)), high };
}

export class RangeBreakoutDetector implements Detector {
  readonly name = 'range-breakout';
  readonly threshold: number;
  readonly #o: Options;
  /** Points learnt so far; the index of the next one. */
  #count = 0;
  /** The last `rangePoints` values, by index modulo rangePoints. */
  readonly #window: Float64Array;
  /** Indices of candidates for the window's max (values decreasing) and min (values increasing). */
  #maxQueue: number[] = [];
  #minQueue: number[] = [];
  /** Unsuppressed evidence of the last `suppressPoints` scored points (oldest first). */
  #recentEvidence: number[] = [];

  constructor(options?: Readonly<Record<string, number>>) {
    this.#o = resolveNumberOptions('range-breakout', rangeBreakoutOptionSpec, options);
    this.threshold = this.#o.threshold;
    this.#window = new Float64Array(this.#o.rangePoints);
  }

  score(timestampMs: number, value: number): number {
    return this.observe(timestampMs, value).score;
  }

  observe(_timestampMs: number, value: number): PointScore {
    if (!Number.isFinite(value)) return { score: 0, direction: 'SHIFT' };
    let result: PointScore = { score: 0, direction: 'HIGH' };
    if (this.#count >= this.#o.warmUpPoints) {
      const max = this.#window[this.#maxQueue[0]! % this.#o.rangePoints]!;
      const min = this.#window[this.#minQueue[0]! % this.#o.rangePoints]!;
      const { evidence, high } = breakoutEvidence(value, min, max);
      result = { score: this.#suppress(evidence), direction: high ? 'HIGH' : 'LOW' };
    }
    this.#learn(value);
    return result;
  }

  /** The score of `evidence`, halved unless it beats the recent evidence; remembers it. */
  #suppress(evidence: number): number {
    return suppressedScore(this.#recentEvidence, evidence, this.#o.suppressPoints);
  }

  #learn(value: number): void {
    const n = this.#o.rangePoints;
    const index = this.#count++;
    this.#window[index % n] = value;
    const valueAt = (i: number): number => this.#window[i % n]!;
    while (this.#maxQueue.length > 0 && valueAt(this.#maxQueue[this.#maxQueue.length - 1]!) <= value) this.#maxQueue.pop();
    this.#maxQueue.push(index);
    while (this.#minQueue.length > 0 && valueAt(this.#minQueue[this.#minQueue.length - 1]!) >= value) this.#minQueue.pop();
    this.#minQueue.push(index);
    // Front entries that left the window; at most one per point, so shift() stays cheap.
    while (this.#maxQueue[0]! <= index - n) this.#maxQueue.shift();
    while (this.#minQueue[0]! <= index - n) this.#minQueue.shift();
  }

  snapshot(): DetectorState {
    const n = this.#o.rangePoints;
    const held = Math.min(this.#count, n);
    const window: number[] = [];
    for (let i = this.#count - held; i < this.#count; i++) window.push(this.#window[i % n]!);
    return { count: this.#count, window, recentEvidence: this.#recentEvidence.map((e) => (Number.isFinite(e) ? e : 1e300)) };
  }

  restore(state: DetectorState): void {
    const { count, window, recentEvidence } = state as { count?: unknown; window?: unknown; recentEvidence?: unknown };
    const numbers = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number');
    if (typeof count !== 'number' || !Number.isInteger(count) || !numbers(window) || !numbers(recentEvidence)) {
      throw new TypeError('range-breakout: restore() needs { count, window: number[], recentEvidence: number[] }');
    }
    const held = window.slice(-this.#o.rangePoints);
    this.#count = count - held.length;
    this.#maxQueue = [];
    this.#minQueue = [];
    for (const value of held) this.#learn(value);
    this.#recentEvidence = recentEvidence.map((e) => (e >= 1e300 ? Infinity : e)).slice(-this.#o.suppressPoints);
  }
}

export const rangeBreakout: DetectorFactory = (options) => new RangeBreakoutDetector(options);
