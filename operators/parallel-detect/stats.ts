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
 * −log10 of the two-sided Gaussian tail probability P(|Z| ≥ |z|), computed in log space so that it
 * keeps growing where the probability itself underflows (|z| = 40 gives ≈ 349). Uses the Chebyshev
 * fit of erfc (Numerical Recipes' erfcc, relative error < 1.2e-7 everywhere): a relative error bound
 * is what keeps its logarithm accurate in the far tail.
 */
export function twoSidedNegLog10P(z: number): number {
  if (Number.isNaN(z)) return 0;
  if (!Number.isFinite(z)) return Infinity;
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const lnErfc =
    Math.log(t) - x * x - 1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return Math.max(0, -lnErfc / Math.LN10);
}

/**
 * Squashes a surprise measured in decades (L = −log10 p) into [0, 1): s = L / (1 + L). It never
 * reaches 1 for a finite L (1 − 2^-53 needs L ≈ 9e15), so points far in the tail stay ordered instead
 * of tying at 1, and a threshold sweep (NAB, tune-threshold) can tell them apart.
 * L = 1 (p = 0.1) → 0.5, L = 4 (p = 1e-4) → 0.8, L = 9 → 0.9.
 */
export function decadesScore(negLog10P: number): number {
  if (!(negLog10P > 0)) return 0;
  if (negLog10P === Infinity) return 1;
  return negLog10P / (1 + negLog10P);
}

/**
 * Two-sided Gaussian tail score of a z-score: {@link decadesScore} of −log10 P(|Z| ≥ |z|), in [0, 1).
 * z = 2 → ≈ 0.573, z = 3 → ≈ 0.72, z ≈ 3.89 (p = 1e-4) → 0.8, z ≈ 6.1 → 0.9, z = 40 → ≈ 0.997. Strictly
 * increasing in |z|; 1 only for an infinite z. (It used to be 1 − p, which rounded to exactly 1 beyond
 * |z| ≈ 5.9, so thousands of points tied at 1.)
 */
export function gaussianTailScore(z: number): number {
  return decadesScore(twoSidedNegLog10P(z));
}

/** The score {@link gaussianTailScore} gives at two-sided tail probability `p`: to state a threshold as a p. */
export function scoreAtTailProbability(p: number): number {
  return decadesScore(-Math.log10(p));
}

/**
 * Maps a non-negative test statistic measured in units of its alarm level to [0, 1): 0 → 0,
 * 1 (the alarm level) → 0.5, 2 → 0.667, 9 → 0.9. Used by the change detectors (CUSUM, Page-Hinkley,
 * ADWIN). r / (1 + r) rather than 1 − 2^−r: the latter rounds to exactly 1 beyond r ≈ 53, so every
 * large excursion tied at 1 and a threshold sweep could not rank them.
 */
export function alarmRatioScore(ratio: number): number {
  if (!(ratio > 0)) return 0;
  if (ratio === Infinity) return 1;
  return ratio / (1 + ratio);
}

/** The smallest standard deviation a detector divides by, relative to the scale of the data. */
export function stdFloor(mean: number): number {
  return 1e-9 * (Math.abs(mean) + 1);
}
