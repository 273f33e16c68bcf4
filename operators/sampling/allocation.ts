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
): number[] {
  const result = seen.map(() => 0);
  let remaining = budget;
  let open = seen.map((_, i) => i).filter((i) => held[i]! > 0);
  while (remaining > 0 && open.length > 0) {
    const shares = sharesFor(open.map((i) => seen[i]!), allocation);
    const exact = shares.map((share) => share * remaining);
    const counts = exact.map(Math.floor);
    let leftover = remaining - counts.reduce((a, b) => a + b, 0);
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

function sharesFor(seen: readonly number[], allocation: StratumAllocation): number[] {
  const strata = seen.length;
  const total = seen.reduce((a, b) => a + b, 0);
  const proportional = seen.map((n) => (total > 0 ? n / total : 1 / strata));
  if (allocation === 'equal') return seen.map(() => 1 / strata);
  if (allocation === 'proportional') return proportional;
  const raw = proportional.map((p) => Math.max(p, 1 / strata));
  const sum = raw.reduce((a, b) => a + b, 0);
  return raw.map((r) => r / sum);
}
