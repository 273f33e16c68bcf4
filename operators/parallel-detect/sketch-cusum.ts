/**
 * `sketch-cusum`: the change sketch (operators/change-sketch/) on one univariate series, as a point
 * detector for the NAB runner and the registry: a robust baseline (median/MAD warm-up, Huber mean,
 * variance winsorised at the CUSUM's clip, guard bands while it is young, frozen while alarmed) and
 * a two-sided CUSUM on z clipped at ±4, capped, in episodes.
 *
 * The level h comes from a target run length between false alarms, in points (`arl`, default 10 000:
 * about one false alarm per NAB file, whose files hold 1 000–22 000 points), by the calibration of
 * alarm-level.ts. The score is 0 but at the first point of an episode, where it is the CUSUM half in
 * units of h, mapped to [0, 1) with h ↦ 0.5 (so ≥ 0.5): one finding per episode.
 */
import { alarmLevelFor } from '../change-sketch/alarm-level.js';
import { SketchTable } from '../change-sketch/sketch-table.js';
import { resolveNumberOptions } from './options.js';
import { alarmRatioScore } from './stats.js';
import type { Detector, DetectorState, PointScore } from './types.js';

export const sketchCusumOptionSpec = {
  /** Target run length between false alarms, in points; sets h. Default 10 000. */
  arl: { default: 10_000, min: 10, max: 1e12 },
  /** Reference value k, in scales. Default 0.5 (the value the calibration is for). */
  k: { default: 0.5, min: 0, max: 4, minExclusive: true },
  /** Baseline learning rate. Default 0.01. */
  learnRate: { default: 0.01, min: 0, max: 0.5, minExclusive: true },
  /** Points learnt before any is scored. Default 50. */
  warmUpPoints: { default: 50, min: 5, max: 10_000, integer: true },
  /** Finding threshold on the score. Default 0.5 (the statistic reached h). */
  threshold: { default: 0.5, min: 0, max: 1 },
} as const;

const VALUES = new Float64Array(1);

export class SketchCusumDetector implements Detector {
  readonly name = 'sketch-cusum';
  readonly threshold: number;
  readonly #table: SketchTable;
  #alarmed = false;

  constructor(options?: Readonly<Record<string, number>>) {
    const o = resolveNumberOptions('sketch-cusum', sketchCusumOptionSpec, options);
    this.threshold = o.threshold;
    this.#table = new SketchTable({
      fields: ['value'],
      level: { fixed: alarmLevelFor(o.arl, o.k) },
      referenceK: o.k,
      learnRate: o.learnRate,
      warmupPoints: o.warmUpPoints,
    });
  }

  score(timestampMs: number, value: number): number {
    return this.observe(timestampMs, value).score;
  }

  observe(timestampMs: number, value: number): PointScore {
    if (!Number.isFinite(value)) return { score: 0, direction: 'SHIFT' };
    VALUES[0] = value;
    const verdict = this.#table.update('series', undefined, timestampMs, VALUES);
    const alarm = verdict.alarms[0];
    // One score per episode, at its start: a point scorer is read point by point (NAB counts every
    // point over the threshold outside a window as a false positive), and an episode is one alarm.
    const starts = alarm !== undefined && alarm.startedAtMs === timestampMs && !this.#alarmed;
    this.#alarmed = alarm !== undefined;
    if (alarm === undefined) return { score: 0, direction: 'HIGH' };
    return { score: starts ? alarmRatioScore(alarm.statistic / alarm.level) : 0, direction: alarm.direction === 'up' ? 'HIGH' : 'LOW' };
  }

  snapshot(): DetectorState {
    return { table: this.#table.snapshot(), alarmed: this.#alarmed };
  }

  restore(state: DetectorState): void {
    const { table, alarmed } = state as { table?: Record<string, unknown>; alarmed?: unknown };
    if (typeof table !== 'object' || table === null || typeof alarmed !== 'boolean') throw new TypeError('sketch-cusum: restore() needs { table, alarmed }');
    this.#table.restore(table);
    this.#alarmed = alarmed;
  }
}

export const sketchCusum = (options?: Readonly<Record<string, number>>): Detector => new SketchCusumDetector(options);
