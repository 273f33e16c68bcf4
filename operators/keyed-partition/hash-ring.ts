/**
 * Key → lane routing: a consistent-hash ring with virtual nodes, an optional bounded-load rule, and a
 * static `hash mod N` baseline.
 *
 * Each lane owns `virtualNodesPerLane` points on a 32-bit ring; a key goes to the lane owning the first
 * point at or after the key's hash. Virtual nodes even out the arcs, and adding a lane moves only the
 * keys on the arcs it takes over (≈ 1/(N+1) of them), where `hash mod N` moves almost all.
 *
 * Bounded load (Mirrokni, Thorup & Zadimoghaddam 2018, "consistent hashing with bounded loads"):
 * a lane may hold at most ⌈(1 + ε) · activeKeys / N⌉ keys (or, measured in recent records, at most
 * (1 + ε) × the mean load); a key whose lane is full walks clockwise to the next lane with room. It is
 * applied by {@link LaneTable} when a key becomes active.
 */

/** 32-bit FNV-1a of the UTF-16 code units, then murmur3's fmix32 finaliser for avalanche. */
export function hashKey(key: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class HashRing {
  readonly laneCount: number;
  readonly #points: Uint32Array;
  readonly #owners: Uint32Array;

  constructor(laneCount: number, virtualNodesPerLane: number) {
    if (!Number.isInteger(laneCount) || laneCount < 1) throw new RangeError(`laneCount must be an integer ≥ 1, got ${laneCount}`);
    if (!Number.isInteger(virtualNodesPerLane) || virtualNodesPerLane < 1) {
      throw new RangeError(`virtualNodesPerLane must be an integer ≥ 1, got ${virtualNodesPerLane}`);
    }
    this.laneCount = laneCount;
    const entries: [number, number][] = [];
    for (let lane = 0; lane < laneCount; lane++) {
      for (let v = 0; v < virtualNodesPerLane; v++) entries.push([hashKey(`lane-${lane}#${v}`, 0x9e3779b9), lane]);
    }
    entries.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    this.#points = Uint32Array.from(entries, (e) => e[0]);
    this.#owners = Uint32Array.from(entries, (e) => e[1]);
  }

  /** The lane that owns `key`. */
  laneOf(key: string): number {
    return this.#owners[this.#indexOf(hashKey(key))]!;
  }

  /**
   * The lanes in ring order starting at `key`'s owner, each once: the walk the bounded-load rule takes.
   */
  *walk(key: string): Generator<number> {
    const seen = new Set<number>();
    const start = this.#indexOf(hashKey(key));
    for (let i = 0; i < this.#points.length && seen.size < this.laneCount; i++) {
      const lane = this.#owners[(start + i) % this.#points.length]!;
      if (!seen.has(lane)) {
        seen.add(lane);
        yield lane;
      }
    }
  }

  #indexOf(hash: number): number {
    let lo = 0;
    let hi = this.#points.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#points[mid]! < hash) lo = mid + 1;
      else hi = mid;
    }
    return lo === this.#points.length ? 0 : lo;
  }
}

/** The efficiency-tuned baseline: `hash mod N`, no virtual nodes. */
export function staticLaneOf(key: string, laneCount: number): number {
  return hashKey(key) % laneCount;
}
