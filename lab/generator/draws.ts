/** Draws from a discrete distribution by inverse CDF: shared by the generators. */

/** Cumulative shares of `weights` (any positive scale), the last exactly 1. */
export function cumulative(weights: readonly number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  let running = 0;
  const out = weights.map((w) => (running += w / total));
  out[out.length - 1] = 1;
  return out;
}

/** The index whose cumulative share first reaches `u` (uniform in [0, 1)): binary search. */
export function pick(cdf: readonly number[], u: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid]! < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
