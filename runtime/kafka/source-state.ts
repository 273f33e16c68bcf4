/**
 * The Kafka source's mutable state, in one explicit object that its parts (the consume loop, the
 * assignment lifecycle, commits) share instead of each capturing the others' fields.
 */
import type { AssignedPartition } from './assigned-partition.js';

export interface SourceStats {
  consumed: number;
  deadLettered: number;
  unsettled: number;
  maxUnsettledSeen: number;
  pausedPartitions: number;
  /** Partitions paused because they ran ahead in event time (included in pausedPartitions). */
  alignedPartitions: number;
  commits: number;
  late: number;
  /** Records the client handed out again within one assignment (skipped: the first copy is in flight). */
  redelivered: number;
  /** Records skipped because a commit said they had completed (their outputs were already sent). */
  skippedCompleted: number;
  /** Completed records a commit could not name for want of metadata room (processed again after a handover). */
  completedLeftOut: number;
}

export interface SourceState {
  readonly stats: SourceStats;
  /** The partitions assigned now (a released one is removed). */
  readonly partitions: Map<number, AssignedPartition>;
  /** Assignment ids are never reused: an origin's id says which assignment (or rewind) it was read under. */
  nextAssignmentId: number;
  everAssigned: boolean;
  /** A consume call came back empty since the last assignment: the consumer has caught up. */
  emptyPollSinceAssign: boolean;
  lastRecordAtMs: number;
  lastSettledAtMs: number;
  /** When the loop began waiting for room under maxUnsettled, or null while it is consuming. */
  blockedSinceMs: number | null;
  stopping: boolean;
  /** Wakes the consume loop waiting for room (a settle, a release, a rewind, a stop). */
  roomWaiter: (() => void) | null;
}

export function createSourceState(): SourceState {
  return {
    stats: { consumed: 0, deadLettered: 0, unsettled: 0, maxUnsettledSeen: 0, pausedPartitions: 0, alignedPartitions: 0, commits: 0, late: 0, redelivered: 0, skippedCompleted: 0, completedLeftOut: 0 },
    partitions: new Map(),
    nextAssignmentId: 1,
    everAssigned: false,
    emptyPollSinceAssign: false,
    lastRecordAtMs: Date.now(),
    lastSettledAtMs: 0,
    blockedSinceMs: null,
    stopping: false,
    roomWaiter: null,
  };
}
