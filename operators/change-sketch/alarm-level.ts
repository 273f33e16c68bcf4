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
 * measured ARL0 as a function of h: {@link NULL_STREAM_FITS}. The operator uses the largest level any
 * of them needs (Student-t 3), so the budget holds on the heaviest tail measured and is conservative
 * on lighter ones. The measured ARL0 is above Siegmund's at every h: the guard bands against baseline
 * error widen k, learning freezes while a half is above h/4, and the cap shortens excursions; keys
 * younger than the simulated ones (whose baselines carry wider guard bands) are more conservative still.
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
 * The measured two-sided ARL0 of the sketch on each simulated null stream, fitted as
 * ln ARL0 = a + s·h (k = 0.5, z clipped at ±4, the default baseline settings; h from 3 to 10, each
 * points with ≥ 20 episodes). Measured by `npx tsx scripts/calibrate-sketch.ts` (table in
 * docs/detection.md); rerun it when the baseline or the CUSUM changes.
 */
export const NULL_STREAM_FITS: Readonly<Record<'gaussian' | 'student-t3' | 'contaminated', { readonly a: number; readonly s: number }>> = {
  gaussian: { a: 1.05, s: 1.518 },
  'student-t3': { a: 0.91, s: 1.193 },
  contaminated: { a: 0.93, s: 1.307 },
};

/**
 * The sketch's level for a target ARL0: at the default k = 0.5, the largest level the fits on the
 * simulated null streams need (the heaviest tail measured: Student-t 3); for another k, for which
 * nothing was simulated, Siegmund's. Plus `correction` (default 0) for a deliberate shift.
 */
export function alarmLevelFor(arl: number, k: number, correction = 0): number {
  if (k !== 0.5) return siegmundLevel(arl, k) + correction;
  let h = 0;
  for (const fit of Object.values(NULL_STREAM_FITS)) h = Math.max(h, (Math.log(arl) - fit.a) / fit.s);
  return h + correction;
}

/** ARL0 (records per key × field between false alarms) for a budget of false alarms per hour. */
export function targetArl(recordsPerHour: number, fields: number, falseAlarmsPerHour: number, minArl = 100): number {
  return Math.max(minArl, (recordsPerHour * fields) / falseAlarmsPerHour);
}
