/**
 * The lanes of `keyedPartition` without RxJS: which lane holds which key, the per-key queues, and work
 * stealing.
 *
 * A key is *active* while it has records queued or one in flight; an active key stays on its lane, so
 * its records are processed one at a time in arrival order. An inactive key is routed afresh (ring,
 * bounded-load ring or static hash). A lane serves its keys round-robin, one record at a time.
 *
 * Bounded loads measure a lane's load in one of two ways. 'active-keys' is the textbook rule: a lane
 * holds at most ⌈(1 + ε) · activeKeys / N⌉ active keys. It only acts while keys stay active, i.e.
 * while lanes have queues; with fast work every key is inactive again before the next record arrives,
 * so the rule never fires and the plain ring decides. 'recent-records' measures what a lane actually
 * did lately: the records it finished, each weighted 2^(−age / halfLife) with age counted in records
 * routed since, plus what it holds now (queued and in flight, at full weight). A key being routed goes
 * to the first lane on its ring walk whose load is below (1 + ε) times the mean, so a hot key that
 * keeps becoming inactive overflows to the next lanes instead of pinning one lane. Per-key order is
 * unaffected: only inactive keys are routed.
 *
 * Stealing: a lane with nothing queued takes the whole queue of one key from the lane with the most
 * queued records — the key with the longest queue that is not in flight there — and the key's
 * assignment moves with it. Order is kept because a key in flight is never moved, and a moved key's
 * later records follow its assignment.
 */
import { HashRing, staticLaneOf } from './hash-ring.js';

export interface LaneTableOptions {
  readonly laneCount: number;
  readonly routing: 'consistent' | 'static';
  readonly virtualNodesPerLane: number;
  /** ε of the bounded-load rule, or null for the plain ring. */
  readonly boundedLoadEpsilon: number | null;
  /** What the bounded-load rule counts as a lane's load (see the file comment). Default 'active-keys'. */
  readonly boundedLoadMeasure?: 'active-keys' | 'recent-records';
  /** 'recent-records': records routed after which a finished record weighs half, ≥ 1. Default 1000. */
  readonly loadHalfLifeRecords?: number;
  readonly stealing: boolean;
  /** A lane is stolen from only when it has at least this many records queued. */
  readonly minStealQueued: number;
}

export interface LaneStats {
  readonly lane: number;
  /** Records whose work has finished on this lane. */
  readonly records: number;
  /** Time spent in work, in the scheduler's milliseconds. */
  readonly busyMs: number;
  readonly queued: number;
  readonly activeKeys: number;
  readonly stolenIn: number;
  readonly stolenOut: number;
}

/** A lane's load counters, as snapshotted. */
export interface LaneCounters {
  readonly records: number;
  readonly busyMs: number;
  readonly stolenIn: number;
  readonly stolenOut: number;
}

interface Lane<R> {
  readonly queues: Map<string, R[]>;
  queued: number;
  inFlightKey: string | null;
  activeKeys: number;
  /** Finished records, each weighted by the growth factor of when it finished ('recent-records'). */
  recentWeight: number;
  records: number;
  busyMs: number;
  stolenIn: number;
  stolenOut: number;
}

export class LaneTable<R> {
  readonly #o: LaneTableOptions;
  readonly #ring: HashRing | null;
  readonly #lanes: Lane<R>[] = [];
  readonly #assignment = new Map<string, number>();
  #totalQueued = 0;
  readonly #byRecentRecords: boolean;
  // Decay without touching every lane per record: instead of shrinking old weights, each new record
  // weighs `growth` times the previous one (rescaled before it overflows); ratios are what count.
  readonly #growth: number;
  #weight = 1;

  constructor(options: LaneTableOptions) {
    this.#o = options;
    this.#ring = options.routing === 'consistent' ? new HashRing(options.laneCount, options.virtualNodesPerLane) : null;
    this.#byRecentRecords = (options.boundedLoadMeasure ?? 'active-keys') === 'recent-records';
    const halfLife = options.loadHalfLifeRecords ?? 1000;
    if (!(halfLife >= 1)) throw new RangeError(`loadHalfLifeRecords must be ≥ 1, got ${halfLife}`);
    this.#growth = 2 ** (1 / halfLife);
    for (let i = 0; i < options.laneCount; i++) {
      this.#lanes.push({ queues: new Map(), queued: 0, inFlightKey: null, activeKeys: 0, recentWeight: 0, records: 0, busyMs: 0, stolenIn: 0, stolenOut: 0 });
    }
  }

  get laneCount(): number {
    return this.#lanes.length;
  }

  get totalQueued(): number {
    return this.#totalQueued;
  }

  get activeKeyCount(): number {
    return this.#assignment.size;
  }

  queued(lane: number): number {
    return this.#lanes[lane]!.queued;
  }

  isBusy(lane: number): boolean {
    return this.#lanes[lane]!.inFlightKey !== null;
  }

  /** The lane an active key is on, if it is active. */
  laneOfActiveKey(key: string): number | undefined {
    return this.#assignment.get(key);
  }

  /** Queues a record under its key; returns the lane it went to. */
  enqueue(key: string, record: R): number {
    if (this.#byRecentRecords) this.#age();
    let laneIndex = this.#assignment.get(key);
    if (laneIndex === undefined) {
      laneIndex = this.#route(key);
      this.#assignment.set(key, laneIndex);
      this.#lanes[laneIndex]!.activeKeys++;
    }
    const lane = this.#lanes[laneIndex]!;
    const queue = lane.queues.get(key);
    if (queue === undefined) lane.queues.set(key, [record]);
    else queue.push(record);
    lane.queued++;
    this.#totalQueued++;
    return laneIndex;
  }

  /**
   * The next record for an idle lane (stealing a key's queue first if the lane has none queued), now
   * in flight on it; undefined if the lane is busy or there is nothing for it.
   */
  take(laneIndex: number): { key: string; record: R } | undefined {
    const lane = this.#lanes[laneIndex]!;
    if (lane.inFlightKey !== null) return undefined;
    if (lane.queued === 0 && this.#o.stealing) this.#steal(laneIndex);
    const next = lane.queues.entries().next();
    if (next.done) return undefined;
    const [key, queue] = next.value;
    const record = queue.shift()!;
    lane.queues.delete(key);
    if (queue.length > 0) lane.queues.set(key, queue); // to the back: round-robin over keys
    lane.queued--;
    this.#totalQueued--;
    lane.inFlightKey = key;
    return { key, record };
  }

  /** The lane's in-flight record is done (emitted); `busyMs` is added to its load. */
  done(laneIndex: number, busyMs: number): void {
    const lane = this.#lanes[laneIndex]!;
    const key = lane.inFlightKey;
    if (key === null) throw new Error(`lane ${laneIndex} has nothing in flight`);
    lane.inFlightKey = null;
    lane.records++;
    lane.recentWeight += this.#weight;
    lane.busyMs += busyMs;
    if (!lane.queues.has(key)) {
      this.#assignment.delete(key);
      lane.activeKeys--;
    }
  }

  /** The lanes' load counters (records, busy time, steals) as plain data; queues are not included. */
  snapshotCounters(): LaneCounters[] {
    return this.#lanes.map((l) => ({ records: l.records, busyMs: l.busyMs, stolenIn: l.stolenIn, stolenOut: l.stolenOut }));
  }

  /** Puts back load counters from {@link snapshotCounters}; the lane counts must match. */
  restoreCounters(counters: readonly LaneCounters[]): void {
    if (!Array.isArray(counters) || counters.length !== this.#lanes.length) {
      throw new RangeError(`lane table: restoreCounters() needs ${this.#lanes.length} lanes' counters, got ${Array.isArray(counters) ? counters.length : String(counters)}`);
    }
    counters.forEach((c, i) => {
      const lane = this.#lanes[i]!;
      lane.records = c.records;
      lane.busyMs = c.busyMs;
      lane.stolenIn = c.stolenIn;
      lane.stolenOut = c.stolenOut;
    });
  }

  stats(): LaneStats[] {
    return this.#lanes.map((l, lane) => ({
      lane,
      records: l.records,
      busyMs: l.busyMs,
      queued: l.queued,
      activeKeys: l.activeKeys,
      stolenIn: l.stolenIn,
      stolenOut: l.stolenOut,
    }));
  }

  #route(key: string): number {
    if (this.#ring === null) return staticLaneOf(key, this.#lanes.length);
    const epsilon = this.#o.boundedLoadEpsilon;
    if (epsilon === null) return this.#ring.laneOf(key);
    if (this.#byRecentRecords) return this.#routeByRecentRecords(key, epsilon);
    const cap = Math.ceil(((1 + epsilon) * (this.#assignment.size + 1)) / this.#lanes.length);
    for (const lane of this.#ring.walk(key)) if (this.#lanes[lane]!.activeKeys < cap) return lane;
    return this.#ring.laneOf(key); // unreachable: some lane is always below the cap
  }

  /** A lane's recent load in units of the current record's weight: decayed finished records plus what it holds. */
  #recentLoad(lane: Lane<R>): number {
    return lane.recentWeight / this.#weight + lane.queued + (lane.inFlightKey === null ? 0 : 1);
  }

  #routeByRecentRecords(key: string, epsilon: number): number {
    let total = 0;
    for (const lane of this.#lanes) total += this.#recentLoad(lane);
    // Strictly below (1+ε) × the mean counting this record: the least loaded lane always qualifies.
    const cap = ((1 + epsilon) * (total + 1)) / this.#lanes.length;
    for (const lane of this.#ring!.walk(key)) if (this.#recentLoad(this.#lanes[lane]!) < cap) return lane;
    return this.#ring!.laneOf(key); // unreachable: the least loaded lane is below the cap
  }

  /** One more record routed: older finished records weigh relatively less. */
  #age(): void {
    this.#weight *= this.#growth;
    if (this.#weight > 1e150) {
      for (const lane of this.#lanes) lane.recentWeight /= this.#weight;
      this.#weight = 1;
    }
  }

  #steal(thiefIndex: number): void {
    let victimIndex = -1;
    let most = this.#o.minStealQueued - 1;
    this.#lanes.forEach((lane, i) => {
      if (i !== thiefIndex && lane.queued > most) {
        most = lane.queued;
        victimIndex = i;
      }
    });
    if (victimIndex < 0) return;
    const victim = this.#lanes[victimIndex]!;
    let stolenKey: string | null = null;
    let longest = 0;
    for (const [key, queue] of victim.queues) {
      if (key !== victim.inFlightKey && queue.length > longest) {
        longest = queue.length;
        stolenKey = key;
      }
    }
    if (stolenKey === null) return;
    const queue = victim.queues.get(stolenKey)!;
    victim.queues.delete(stolenKey);
    victim.queued -= queue.length;
    victim.activeKeys--;
    victim.stolenOut++;
    const thief = this.#lanes[thiefIndex]!;
    thief.queues.set(stolenKey, queue);
    thief.queued += queue.length;
    thief.activeKeys++;
    thief.stolenIn++;
    this.#assignment.set(stolenKey, thiefIndex);
  }
}
