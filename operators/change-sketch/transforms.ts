/**
 * The transforms that make a field's noise closer to additive and symmetric before it is
 * standardised: a multiplicative change (latency ×2.5, tokens ×3) becomes a shift of the log, and a
 * probability near 0 or 1 (confidence) moves on the logit scale as freely as near 0.5.
 */

/**
 * `log`: positive quantities (latency, token counts; log(1 + x), so 0 is allowed). `logit`:
 * probabilities. `auto`: a field that may or may not be a probability (a model's output): each
 * key × field reads it on the logit scale when all of its warm-up values lie in [0, 1], as is
 * otherwise (a later value outside [0, 1] on the logit scale is skipped).
 */
export type FieldTransform = 'identity' | 'log' | 'logit' | 'auto';

export const FIELD_TRANSFORMS: readonly FieldTransform[] = ['identity', 'log', 'logit', 'auto'];

/** Probabilities are clamped to [ε, 1 − ε] before the logit, so 0 and 1 stay finite. */
const PROBABILITY_EPSILON = 1e-4;

/** The transformed value, or NaN when `x` is outside the transform's domain (the point is skipped). */
export function transformValue(transform: FieldTransform, x: number): number {
  switch (transform) {
    case 'identity':
    case 'auto':
      return x;
    case 'log':
      return x > -1 ? Math.log1p(x) : NaN;
    case 'logit': {
      if (!(x >= 0 && x <= 1)) return NaN;
      const p = x < PROBABILITY_EPSILON ? PROBABILITY_EPSILON : x > 1 - PROBABILITY_EPSILON ? 1 - PROBABILITY_EPSILON : x;
      return Math.log(p / (1 - p));
    }
  }
}
