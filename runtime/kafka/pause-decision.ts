/**
 * Which input partitions to pause and resume (backpressure), decided without the client: a partition
 * is paused while its lifecycle holds it back (restoring, revoking), while its unsettled records are
 * over the high-water mark (until they fall to the low-water mark), or while it runs too far ahead of
 * the slowest partition in event time (watermark alignment, until it is back within half the drift).
 * The caller applies the answer to the consumer.
 */

/** What the decision reads and updates of one partition (an AssignedPartition). */
export interface PausablePartition {
  readonly partition: number;
  readonly tracker: { readonly unsettled: number };
  readonly holdsFetching: boolean;
  /** Offset after the last record consumed, -1 before the first. */
  readonly nextOffset: number;
  paused: boolean;
  overHighWater: boolean;
  aheadOfWatermark: boolean;
}

/** Event-time and lag facts, read only where alignment needs them. */
export interface PartitionProgress {
  watermarkMs(partition: number): number;
  isIdle(partition: number): boolean;
  /** Records behind the high watermark, or null when not known. */
  lag(partition: PausablePartition): number | null;
  /** The partition is known to hold no record. */
  knownEmpty(partition: number): boolean;
}

export interface PauseLimits {
  readonly partitionHighWater: number;
  readonly partitionLowWater: number;
  /** 0 = no alignment. */
  readonly maxEventTimeDriftMs: number;
}

export interface PauseDecision {
  readonly toPause: number[];
  readonly toResume: number[];
  /** Partitions paused for running ahead in event time. */
  readonly aligned: number;
}

/** Updates each partition's pause reasons and `paused`; returns what changed. */
export function decidePauses(partitions: Iterable<PausablePartition>, limits: PauseLimits, progress: PartitionProgress): PauseDecision {
  const list = [...partitions];
  const slowestMs = limits.maxEventTimeDriftMs > 0 ? slowestWatermarkMs(list, progress) : Infinity;
  const toPause: number[] = [];
  const toResume: number[] = [];
  let aligned = 0;
  for (const assigned of list) {
    const unsettled = assigned.tracker.unsettled;
    if (unsettled >= limits.partitionHighWater) assigned.overHighWater = true;
    else if (unsettled <= limits.partitionLowWater) assigned.overHighWater = false;
    assigned.aheadOfWatermark = isAhead(assigned, slowestMs, limits.maxEventTimeDriftMs, progress);
    if (assigned.aheadOfWatermark) aligned++;
    const pause = assigned.overHighWater || assigned.aheadOfWatermark || assigned.holdsFetching;
    if (pause && !assigned.paused) toPause.push(assigned.partition);
    else if (!pause && assigned.paused) toResume.push(assigned.partition);
    assigned.paused = pause;
  }
  return { toPause, toResume, aligned };
}

/**
 * The reference for alignment: the slowest partition that can still move the watermark — one with
 * records left to read and not itself paused for being ahead. A partition that has not produced yet
 * (-Infinity) is the slowest of all: at start-up one partition's first fetch can span minutes of event
 * time before another's arrives, and the steps would close windows under the late partition's
 * records. It stops holding the others once it is known to be empty or goes idle
 * (partitionIdleTimeoutMs), so an empty partition cannot stall the start for longer than that.
 */
function slowestWatermarkMs(partitions: readonly PausablePartition[], progress: PartitionProgress): number {
  let slowestMs = Infinity;
  for (const assigned of partitions) {
    if (assigned.aheadOfWatermark || progress.lag(assigned) === 0) continue;
    if (progress.isIdle(assigned.partition) || (assigned.nextOffset < 0 && progress.knownEmpty(assigned.partition))) continue;
    const watermarkMs = progress.watermarkMs(assigned.partition);
    if (watermarkMs < slowestMs) slowestMs = watermarkMs;
  }
  return slowestMs;
}

/** Ahead of the slowest by more than the drift (with hysteresis: back at half of it). */
function isAhead(assigned: PausablePartition, slowestMs: number, driftMs: number, progress: PartitionProgress): boolean {
  if (driftMs <= 0 || slowestMs === Infinity) return false;
  if (slowestMs === -Infinity) return progress.watermarkMs(assigned.partition) !== -Infinity;
  const aheadMs = progress.watermarkMs(assigned.partition) - slowestMs;
  if (aheadMs > driftMs) return true;
  if (aheadMs <= driftMs / 2) return false;
  return assigned.aheadOfWatermark;
}
