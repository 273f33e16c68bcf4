/** Small numeric helpers shared by the detectors. */

/** The error function (Abramowitz–Stegun 7.1.26, |error| < 1.5e-7). */
export function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y =
    1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return sign * y;
}

/**
 * Two-sided Gaussian tail score: 1 − P(|Z| ≥ |z|), in [0, 1). z = 2 gives ≈ 0.954, z = 3 ≈ 0.9973,
 * z = 4 ≈ 0.99994. Beyond z ≈ 5.9 the double rounds to 1.
 */
export function gaussianTailScore(z: number): number {
  if (!Number.isFinite(z)) return Number.isNaN(z) ? 0 : 1;
  return erf(Math.abs(z) / Math.SQRT2);
}

/**
 * Maps a non-negative test statistic measured in units of its alarm level to [0, 1): 0 → 0,
 * 1 (the alarm level) → 0.5, 2 → 0.75. Used by the change detectors (CUSUM, Page-Hinkley, ADWIN).
 */
export function alarmRatioScore(ratio: number): number {
  if (!(ratio > 0)) return 0;
  return 1 - Math.pow(2, -ratio);
}

/** The smallest standard deviation a detector divides by, relative to the scale of the data. */
export function stdFloor(mean: number): number {
  return 1e-9 * (Math.abs(mean) + 1);
}
