/**
 * Commit and rewind over the assigned partitions: what to commit (each partition's highest contiguous
 * settled offset, with the records completed ahead of it as metadata), what a commit carried, and the
 * rewind to the committed offsets after an aborted transaction. The consumer calls stay in the source.
 */
import type { AssignedPartition } from './assigned-partition.js';
import { encodeCompleted } from './completed-offsets.js';

/** A partition's position to commit, with the records completed ahead of it (completed-offsets.ts). */
export interface OffsetToCommit {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly metadata: string;
}

/** Counts the commit positions keep: metadata room that ran out. */
export interface CommitStats {
  completedLeftOut: number;
}

/**
 * Each partition's settled position, with the records completed ahead of it as metadata, where
 * either changed since the last commit. Partitions still restoring are left out (nothing handed out).
 */
export function offsetsToCommit(partitions: Iterable<AssignedPartition>, stats: CommitStats, log: (message: string) => void): OffsetToCommit[] {
  const offsets: OffsetToCommit[] = [];
  for (const assigned of partitions) {
    if (assigned.state === 'restoring' || assigned.state === 'released') continue;
    const offset = assigned.tracker.commitOffset();
    if (offset === null || offset < assigned.lastCommitted) continue;
    // Ahead of the commit: what settled here, then what the previous commit named that is not read yet.
    const ahead = assigned.tracker.completedAhead();
    if (assigned.completed !== null) ahead.push(...assigned.completed.rangesFrom(assigned.nextOffset < 0 ? offset : assigned.nextOffset));
    const { metadata, leftOut } = encodeCompleted(offset, ahead);
    if (offset === assigned.lastCommitted && metadata === assigned.lastCommittedMetadata) continue;
    if (leftOut > 0 && stats.completedLeftOut === 0) {
      log(`${assigned.topic}[${assigned.partition}]: ${leftOut} records completed ahead of offset ${offset} do not fit in the commit metadata; after a handover they are processed again (lower --partition-high-water to keep fewer records in flight)`);
    }
    stats.completedLeftOut += leftOut;
    offsets.push({ topic: assigned.topic, partition: assigned.partition, offset, metadata });
  }
  return offsets;
}

/** Records what a commit carried (never moving a partition's commit back). */
export function markCommitted(partitions: ReadonlyMap<number, AssignedPartition>, offsets: readonly { partition: number; offset: number; metadata?: string | null }[]): void {
  for (const { partition, offset, metadata } of offsets) {
    const assigned = partitions.get(partition);
    if (assigned === undefined || offset < assigned.lastCommitted) continue;
    assigned.lastCommitted = offset;
    assigned.lastCommittedMetadata = metadata ?? '';
  }
}

/** Each partition's committed offset (-1 where none), leaving out partitions still restoring. */
export function committedPositions(partitions: Iterable<AssignedPartition>): Map<number, number> {
  const positions = new Map<number, number>();
  for (const assigned of partitions) if (assigned.state !== 'restoring') positions.set(assigned.partition, assigned.lastCommitted);
  return positions;
}

/**
 * Every partition but those still restoring goes back to its committed offset with a new assignment
 * id (see AssignedPartition.rewind). Returns how many unsettled records were dropped.
 */
export function rewindToCommitted(partitions: Iterable<AssignedPartition>, nextAssignmentId: () => number): number {
  let dropped = 0;
  for (const assigned of partitions) {
    if (assigned.state === 'restoring') continue;
    dropped += assigned.rewind(nextAssignmentId());
  }
  return dropped;
}
