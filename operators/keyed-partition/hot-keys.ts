/**
 * Hot keys by rate: the Space-Saving algorithm (Metwally, Agrawal & El Abbadi 2005) with decay.
 *
 * At most `capacity` counters; a new key takes over the smallest counter (inheriting its count, so
 * counts over-estimate by at most that minimum). Every `decayEveryRecords` records all counts halve,
 * so the ranking follows the recent rate rather than all-time totals. Memory is O(capacity).
 */
export interface HotKey {
  readonly key: string;
  /** Decayed count (an over-estimate by at most `error`). */
  readonly count: number;
  readonly error: number;
  /** count / total decayed count: the key's share of recent records. */
  readonly share: number;
}

export interface HotKeyTrackerSnapshot {
  readonly counts: readonly (readonly [key: string, count: number, error: number])[];
  readonly total: number;
  readonly sinceDecay: number;
}

export class HotKeyTracker {
  readonly #capacity: number;
  readonly #decayEveryRecords: number;
  readonly #counts = new Map<string, { count: number; error: number }>();
  #total = 0;
  #sinceDecay = 0;

  constructor(capacity = 32, decayEveryRecords = 10_000) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`hot-key capacity must be an integer ≥ 1, got ${capacity}`);
    if (!Number.isInteger(decayEveryRecords) || decayEveryRecords < 1) {
      throw new RangeError(`hot-key decayEveryRecords must be an integer ≥ 1, got ${decayEveryRecords}`);
    }
    this.#capacity = capacity;
    this.#decayEveryRecords = decayEveryRecords;
  }

  record(key: string): void {
    this.#total++;
    const entry = this.#counts.get(key);
    if (entry !== undefined) entry.count++;
    else if (this.#counts.size < this.#capacity) this.#counts.set(key, { count: 1, error: 0 });
    else {
      let minKey = '';
      let min = Infinity;
      for (const [k, v] of this.#counts) {
        if (v.count < min) {
          min = v.count;
          minKey = k;
        }
      }
      this.#counts.delete(minKey);
      this.#counts.set(key, { count: min + 1, error: min });
    }
    if (++this.#sinceDecay >= this.#decayEveryRecords) {
      this.#sinceDecay = 0;
      this.#total /= 2;
      for (const v of this.#counts.values()) {
        v.count /= 2;
        v.error /= 2;
      }
    }
  }

  /** Plain serialisable state: every counter, the decayed total and the records since the last decay. */
  snapshot(): HotKeyTrackerSnapshot {
    return { counts: [...this.#counts].map(([key, v]) => [key, v.count, v.error]), total: this.#total, sinceDecay: this.#sinceDecay };
  }

  /** Replaces the state with a {@link snapshot}'s (at most `capacity` counters are kept). */
  restore(snapshot: HotKeyTrackerSnapshot): void {
    if (!Array.isArray(snapshot?.counts) || typeof snapshot.total !== 'number' || typeof snapshot.sinceDecay !== 'number') {
      throw new TypeError('hot keys: restore() needs { counts: [key, count, error][], total, sinceDecay }');
    }
    this.#counts.clear();
    for (const [key, count, error] of snapshot.counts.slice(0, this.#capacity)) this.#counts.set(key, { count, error });
    this.#total = snapshot.total;
    this.#sinceDecay = snapshot.sinceDecay;
  }

  /** The `k` keys with the highest recent counts, highest first. */
  top(k: number): HotKey[] {
    return [...this.#counts]
      .sort((a, b) => b[1].count - a[1].count || (a[0] < b[0] ? -1 : 1))
      .slice(0, k)
      .map(([key, v]) => ({ key, count: v.count, error: v.error, share: this.#total > 0 ? v.count / this.#total : 0 }));
  }
}
