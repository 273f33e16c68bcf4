/** Gamma and normal variates from a seeded generator (Marsaglia & Tsang 2000; Box–Muller). */
import type { SeededRandom } from '../../core/random.js';

export function standardNormal(random: SeededRandom): number {
  return random.nextGaussian();
}

/** A Gamma(shape, rate) variate: mean shape / rate. shape > 0, rate > 0. */
export function gammaVariate(shape: number, rate: number, random: SeededRandom): number {
  if (shape < 1) {
    // Boost: Gamma(a) = Gamma(a + 1) · U^(1/a).
    return gammaVariate(shape + 1, rate, random) * Math.pow(random.nextOpenFloat(), 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = standardNormal(random);
    const v0 = 1 + c * x;
    if (v0 <= 0) continue;
    const v = v0 * v0 * v0;
    const u = random.nextOpenFloat();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return (d * v) / rate;
  }
}
