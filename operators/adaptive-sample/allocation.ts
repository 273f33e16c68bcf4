/**
 * Splitting a window's record budget among strata (or shards).
 *
 * - equal:         every stratum gets K / S;
 * - proportional:  stratum h gets K · n_h / n;
 * - congressional: (Acharya, Gibbons & Poosala, "Congressional samples", SIGMOD 2000) each stratum
 *                  gets max(equal, proportional) share, scaled so the shares sum to K — small strata
 *                  keep a floor of visibility, large ones keep most of their proportional share.
 *
 * Integer counts come from largest-remainder rounding, then water-filling: a stratum cannot take
 * more than it holds, and what it cannot use is redistributed to the others by the same rule. The
 * result never sums to more than K.
 *
 * With `random`, the fractional parts are rounded at random instead (systematic sampling over the
 * remainders: stratum h gets its extra record with probability equal to its remainder, and the
 * total stays exact). That matters when a window's budget is smaller than its number of strata —
 * 10 records over 100 model × segment strata gives each 0.1: largest-remainder rounding breaks the
 * ties by the order strata were first seen, so the hot strata (seen first) take the whole budget
 * every window and a rare stratum never gets its 0.1. Randomised, each stratum gets its share in
 * expectation.
 */
export type StratumAllocation = 'equal' | 'proportional' | 'congressional';

export const stratumAllocations: readonly StratumAllocation[] = ['equal', 'proportional', 'congressional'];

/**
 * @param budget K, records to choose in total (integer ≥ 0)
 * @param seen   n_h, records each stratum saw in the window (drives the shares)
 * @param held   records each stratum can still give (≤ seen; its reservoir size)
 */
export function allocateBudget(
  budget: number,
  seen: readonly number[],
  held: readonly number[],
  allocation: StratumAllocation,
  random?: () => number,
): number[] {
  const result = seen.map(() => 0);
  let remaining = budget;
  let open = seen.map((_, i) => i).filter((i) => held[i]! > 0);
  while (remaining > 0 && open.length > 0) {
    const shares = sharesFor(open.map((i) => seen[i]!), allocation);
    const exact = shares.map((share) => share * remaining);
    const counts = exact.map(Math.floor);
    let leftover = remaining - counts.reduce((a, b) => a + b, 0);
    if (random !== undefined && leftover > 0) {
      // Systematic rounding: points u, u + 1, … over the running sum of remainders (each < 1, so a
      // stratum gets at most one); the remainders sum to `leftover`, so exactly that many are given.
      let point = random();
      let cumulative = 0;
      exact.forEach((x, j) => {
        cumulative += x - Math.floor(x);
        if (leftover > 0 && cumulative > point) {
          counts[j]!++;
          leftover--;
          point++;
        }
      });
    }
    const byRemainder = exact.map((x, j) => ({ j, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r || a.j - b.j);
    for (const { j } of byRemainder) {
      if (leftover === 0) break;
      counts[j]!++;
      leftover--;
    }
    let given = 0;
    const stillOpen: number[] = [];
    open.forEach((i, j) => {
      const room = held[i]! - result[i]!;
      const take = Math.min(room, counts[j]!);
      result[i]! += take;
      given += take;
      if (room > take) stillOpen.push(i);
    });
    remaining -= given;
    if (given === 0 || stillOpen.length === open.length) break;
    open = stillOpen;
  }
  return result;
}

/** Each stratum's share of the budget under `allocation` (sums to 1), before rounding and water-filling. */
export function sharesFor(seen: readonly number[], allocation: StratumAllocation): number[] {
  const strata = seen.length;
  const total = seen.reduce((a, b) => a + b, 0);
  const proportional = seen.map((n) => (total > 0 ? n / total : 1 / strata));
  if (allocation === 'equal') return seen.map(() => 1 / strata);
  if (allocation === 'proportional') return proportional;
  const raw = proportional.map((p) => Math.max(p, 1 / strata));
  const sum = raw.reduce((a, b) => a + b, 0);
  return raw.map((r) => r / sum);
}
