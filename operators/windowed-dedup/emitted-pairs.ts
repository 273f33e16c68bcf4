/**
 * The (cluster, window) pairs a windowedDedup has emitted mentions for, kept so that the next owner of
 * their input partitions does not emit a second mention for the same pair. Without RxJS.
 *
 * Why: an instance that gives its partitions up by stopping drains — it emits its open windows as they
 * are. The records of those windows that arrive after the move go to the next owner, which would open
 * the same (cluster, window) again and emit it a second time. So an emitted pair travels in the
 * snapshot, tagged with the input partitions its records came from, and the next owner treats the
 * pair as closed: its records count as late, exactly as one instance treats a record that arrives
 * after it emitted the record's window.
 *
 * Two sets: every pair this operator knows of (its own and handed-over ones: the snapshot holds both,
 * so a pair survives several moves), and the handed-over ones, which are the only ones that close a
 * pair for new records. The operator's own emissions need no such check: a window it emitted on the
 * watermark is late by that watermark, and one it emitted early (memory bounds) continues in a new
 * mention, as before.
 *
 * Bounded: a pair is forgotten once the watermark reaches its window end (from then on its records
 * are late by the watermark itself; the runner's watermark already allows for the allowed lateness),
 * and at most `maxPairs` are kept (beyond, the earliest noted goes first).
 */

/** One emitted pair as a snapshot holds it: `[partition, clusterId, startMs, endMs]`. */
export type EmittedPair = readonly [partition: number, clusterId: string, startMs: number, endMs: number];

export class EmittedPairs {
  /** Every pair known, by `partition|cluster|start`, in the order noted. */
  readonly #all = new Map<string, EmittedPair>();
  /** Handed-over pairs (restored or merged), by cluster: the windows `[startMs, endMs)` closed for it. */
  readonly #handedOver = new Map<string, { startMs: number; endMs: number }[]>();
  #earliestEndMs = Infinity;

  constructor(private readonly maxPairs: number) {}

  get size(): number {
    return this.#all.size;
  }

  /** Notes a pair this operator emitted, for each partition its records came from. */
  noteEmitted(partitions: Iterable<number>, clusterId: string, startMs: number, endMs: number): void {
    for (const partition of partitions) this.#add([partition, clusterId, startMs, endMs]);
  }

  /** Takes pairs from a snapshot: those of `partitions` (all when undefined). They close their windows. */
  handOver(pairs: readonly EmittedPair[], partitions: readonly number[] | undefined): number {
    const wanted = partitions === undefined ? null : new Set(partitions);
    let taken = 0;
    for (const pair of pairs) {
      if (wanted !== null && !wanted.has(pair[0])) continue;
      this.#add(pair);
      const [, clusterId, startMs, endMs] = pair;
      const closed = this.#handedOver.get(clusterId) ?? [];
      if (!closed.some((w) => w.startMs === startMs)) closed.push({ startMs, endMs });
      this.#handedOver.set(clusterId, closed);
      taken++;
    }
    return taken;
  }

  /**
   * True when a handed-over pair closes this cluster's window. Tumbling and hopping windows match on
   * their start; a session matches when the event time falls inside the emitted session.
   */
  closedByHandover(clusterId: string, window: { startMs: number }, eventTimeMs: number, session: boolean): boolean {
    const closed = this.#handedOver.get(clusterId);
    if (closed === undefined) return false;
    return session ? closed.some((w) => eventTimeMs >= w.startMs && eventTimeMs < w.endMs) : closed.some((w) => w.startMs === window.startMs);
  }

  /** Forgets the pairs whose window the watermark has reached: no record can fall in them any more. */
  prune(watermarkMs: number): void {
    if (watermarkMs < this.#earliestEndMs - 1) return;
    let earliest = Infinity;
    for (const [key, pair] of this.#all) {
      if (watermarkMs >= pair[3] - 1) this.#all.delete(key);
      else if (pair[3] < earliest) earliest = pair[3];
    }
    for (const [clusterId, closed] of this.#handedOver) {
      const open = closed.filter((w) => watermarkMs < w.endMs - 1);
      if (open.length === 0) this.#handedOver.delete(clusterId);
      else this.#handedOver.set(clusterId, open);
    }
    this.#earliestEndMs = earliest;
  }

  /** Every pair known, for the snapshot. */
  pairs(): EmittedPair[] {
    return [...this.#all.values()];
  }

  #add(pair: EmittedPair): void {
    const key = `${pair[0]}|${pair[1]}|${pair[2]}`;
    if (this.#all.has(key)) return;
    this.#all.set(key, pair);
    if (pair[3] < this.#earliestEndMs) this.#earliestEndMs = pair[3];
    if (this.#all.size > this.maxPairs) {
      // Over the bound: the earliest noted goes, and with it its handed-over window.
      const [oldestKey, [, clusterId, startMs]] = this.#all.entries().next().value!;
      this.#all.delete(oldestKey);
      const closed = this.#handedOver.get(clusterId)?.filter((w) => w.startMs !== startMs);
      if (closed === undefined || closed.length === 0) this.#handedOver.delete(clusterId);
      else this.#handedOver.set(clusterId, closed);
    }
  }
}

/** Checks a snapshot's `emitted` field; throws a TypeError that says what is expected. */
export function parseEmittedPairs(operator: string, value: unknown): EmittedPair[] {
  if (!Array.isArray(value)) throw new TypeError(`${operator}: restore() needs { emitted: [partition, clusterId, startMs, endMs][] }`);
  for (const pair of value) {
    if (
      !Array.isArray(pair) ||
      pair.length !== 4 ||
      !Number.isInteger(pair[0]) ||
      typeof pair[1] !== 'string' ||
      typeof pair[2] !== 'number' ||
      typeof pair[3] !== 'number'
    ) {
      throw new TypeError(`${operator}: restore() needs { emitted: [partition, clusterId, startMs, endMs][] }, got ${JSON.stringify(pair)}`);
    }
  }
  return value as EmittedPair[];
}
