/**
 * The source-side watermark: one per input partition, combined into the topology's watermark.
 *
 * A partition's watermark is the highest event time seen on it minus the allowed lateness. The
 * topology's watermark is the minimum over *active* partitions — a partition that has produced
 * nothing for `idleTimeoutMs` (measured on the injected clock, never the wall clock) stops holding
 * everyone back, and rejoins when it produces again. The topology watermark never moves backwards:
 * a partition that comes back from idle behind it simply sees its old records classified as late.
 *
 * A partition that has been assigned (`addPartition`) but has produced nothing holds the watermark
 * at -Infinity until it produces or goes idle, so a slow partition at start-up cannot make another
 * partition's records look late.
 *
 * Pure: no RxJS, no timers. The runtime's source calls `observe` per record and stamps the result
 * on the envelope; tests drive the clock by hand.
 */

/** A partition's identity: a Kafka partition number, or any string the source chooses (`topic[3]`). */
export type PartitionId = string | number;

export interface WatermarkTrackerOptions {
  /**
   * How far behind the highest event time seen on a partition its watermark trails, in ms.
   * Default 0. Records up to this much out of order are still on time.
   */
  readonly allowedLatenessMs?: number;
  /**
   * A partition that produces nothing for this long (by `now()`) is left out of the minimum, in ms.
   * Default 30 000. `Infinity` keeps every partition active forever.
   */
  readonly idleTimeoutMs?: number;
  /** The clock idleness is measured on, epoch ms: pass `() => scheduler.now()`. Required. */
  readonly now: () => number;
}

/** What {@link WatermarkTracker.observe} says about one record. */
export interface WatermarkObservation {
  /** True when the record's event time is at or below the topology watermark it arrived under. */
  readonly late: boolean;
  /** The topology watermark after this record (stamp it on the envelope). */
  readonly watermarkMs: number;
}

/** Plain, JSON-serialisable state of a {@link WatermarkTracker} (-Infinity is written as null). */
export interface WatermarkTrackerSnapshot {
  readonly partitions: readonly {
    readonly partition: string;
    readonly maxEventTimeMs: number | null;
    readonly lastActivityMs: number;
  }[];
  readonly watermarkMs: number | null;
  readonly lateRecords: number;
}

interface PartitionState {
  maxEventTimeMs: number;
  /** When it last produced, or was last held active (`holdActive`). */
  lastActivityMs: number;
  /** When it last produced (or was added). */
  lastRecordMs: number;
}

export class WatermarkTracker {
  readonly allowedLatenessMs: number;
  readonly idleTimeoutMs: number;
  readonly #now: () => number;
  readonly #partitions = new Map<string, PartitionState>();
  #watermarkMs = -Infinity;
  #lateRecords = 0;

  constructor(options: WatermarkTrackerOptions) {
    const { allowedLatenessMs = 0, idleTimeoutMs = 30_000, now } = options;
    if (typeof allowedLatenessMs !== 'number' || !Number.isFinite(allowedLatenessMs) || allowedLatenessMs < 0) {
      throw new RangeError(`WatermarkTracker: allowedLatenessMs must be a finite number ≥ 0, got ${allowedLatenessMs}`);
    }
    if (typeof idleTimeoutMs !== 'number' || Number.isNaN(idleTimeoutMs) || idleTimeoutMs <= 0) {
      throw new RangeError(`WatermarkTracker: idleTimeoutMs must be a number > 0 (or Infinity), got ${idleTimeoutMs}`);
    }
    if (typeof now !== 'function') {
      throw new TypeError('WatermarkTracker: now must be a clock function, e.g. () => scheduler.now()');
    }
    this.allowedLatenessMs = allowedLatenessMs;
    this.idleTimeoutMs = idleTimeoutMs;
    this.#now = now;
  }

  /** Registers an assigned partition that has produced nothing yet (it holds the watermark back). */
  addPartition(partition: PartitionId): void {
    const id = String(partition);
    if (!this.#partitions.has(id)) {
      const nowMs = this.#now();
      this.#partitions.set(id, { maxEventTimeMs: -Infinity, lastActivityMs: nowMs, lastRecordMs: nowMs });
    }
  }

  /** Forgets a partition (revoked in a rebalance); it no longer holds the watermark back. */
  removePartition(partition: PartitionId): void {
    this.#partitions.delete(String(partition));
  }

  /**
   * Records one record's event time on its partition. Lateness is judged against the watermark the
   * record arrived under; the returned watermark includes the record.
   */
  observe(partition: PartitionId, eventTimeMs: number): WatermarkObservation {
    if (!Number.isFinite(eventTimeMs)) {
      throw new RangeError(`WatermarkTracker.observe: eventTimeMs must be finite, got ${eventTimeMs}`);
    }
    const late = eventTimeMs <= this.watermarkMs();
    if (late) this.#lateRecords++;
    const id = String(partition);
    const nowMs = this.#now();
    const state = this.#partitions.get(id);
    if (state === undefined) {
      this.#partitions.set(id, { maxEventTimeMs: eventTimeMs, lastActivityMs: nowMs, lastRecordMs: nowMs });
    } else {
      if (eventTimeMs > state.maxEventTimeMs) state.maxEventTimeMs = eventTimeMs;
      state.lastActivityMs = nowMs;
      state.lastRecordMs = nowMs;
    }
    return { late, watermarkMs: this.watermarkMs() };
  }

  /**
   * The topology watermark now: the minimum partition watermark over active partitions, never below
   * what it was before. It can advance without new records, when a lagging partition goes idle.
   */
  watermarkMs(): number {
    const nowMs = this.#now();
    let minimumMs = Infinity;
    for (const state of this.#partitions.values()) {
      if (nowMs - state.lastActivityMs >= this.idleTimeoutMs) continue;
      const partitionWatermarkMs = state.maxEventTimeMs - this.allowedLatenessMs;
      if (partitionWatermarkMs < minimumMs) minimumMs = partitionWatermarkMs;
    }
    // No active partition: hold the watermark where it is rather than jump anywhere.
    if (minimumMs !== Infinity && minimumMs > this.#watermarkMs) this.#watermarkMs = minimumMs;
    return this.#watermarkMs;
  }

  /** One partition's own watermark (-Infinity if unknown or empty). */
  partitionWatermarkMs(partition: PartitionId): number {
    const state = this.#partitions.get(String(partition));
    return state === undefined ? -Infinity : state.maxEventTimeMs - this.allowedLatenessMs;
  }

  /**
   * The partition has input left to read (its reader is behind its end, or holds it paused): it is
   * not idle, however long since its last record. Without this, a partition whose records wait behind
   * another's long batch, or that is paused for backpressure, went idle, the watermark jumped to the
   * others' event time, and its records then arrived late. It holds for at most `forAtMostMs` after
   * the partition's last record, so input it cannot read (a transaction's markers) stops holding.
   */
  holdActive(partition: PartitionId, forAtMostMs: number): void {
    const state = this.#partitions.get(String(partition));
    if (state === undefined) return;
    const nowMs = this.#now();
    if (nowMs - state.lastRecordMs < forAtMostMs) state.lastActivityMs = nowMs;
  }

  /** True when the partition is known and has been silent for at least `idleTimeoutMs`. */
  isIdle(partition: PartitionId): boolean {
    const state = this.#partitions.get(String(partition));
    return state !== undefined && this.#now() - state.lastActivityMs >= this.idleTimeoutMs;
  }

  /** Records observed at or below the watermark they arrived under, since construction or restore. */
  get lateRecords(): number {
    return this.#lateRecords;
  }

  snapshot(): WatermarkTrackerSnapshot {
    return {
      partitions: [...this.#partitions].map(([partition, state]) => ({
        partition,
        maxEventTimeMs: Number.isFinite(state.maxEventTimeMs) ? state.maxEventTimeMs : null,
        lastActivityMs: state.lastActivityMs,
      })),
      watermarkMs: Number.isFinite(this.#watermarkMs) ? this.#watermarkMs : null,
      lateRecords: this.#lateRecords,
    };
  }

  restore(snapshot: WatermarkTrackerSnapshot): void {
    this.#partitions.clear();
    for (const entry of snapshot.partitions) {
      this.#partitions.set(entry.partition, {
        maxEventTimeMs: entry.maxEventTimeMs ?? -Infinity,
        lastActivityMs: entry.lastActivityMs,
        lastRecordMs: entry.lastActivityMs,
      });
    }
    this.#watermarkMs = snapshot.watermarkMs ?? -Infinity;
    this.#lateRecords = snapshot.lateRecords;
  }
}
