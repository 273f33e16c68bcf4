/**
 * What the source keeps for one assigned input partition: its lifecycle state (partition-lifecycle.ts),
 * its offset tracker and commit position, what it skips, and why it is paused. Every lifecycle change
 * goes through a method here, which moves the state machine and the data that belongs to the state
 * (held records, the pending seek, the settlements waiting for the release) together.
 */
import { PartitionOffsetTracker } from '../offset-tracker.js';
import { CompletedOffsets, decodeCompleted } from './completed-offsets.js';
import type { Message } from './client.js';
import { PartitionLifecycle, type PartitionState, type RecordAction } from './partition-lifecycle.js';

export class AssignedPartition {
  readonly #lifecycle: PartitionLifecycle;
  #tracker: PartitionOffsetTracker;
  #assignmentId: number;
  /** Paused in the client, for any reason below. */
  paused = true;
  /** Too many unsettled records (hysteresis between the high- and low-water marks). */
  overHighWater = false;
  /** Too far ahead in event time (watermark alignment). */
  aheadOfWatermark = false;
  /** This instance's last commit of the partition (-1 before the first) and its metadata. */
  lastCommitted = -1;
  lastCommittedMetadata = '';
  /** Offset after the last record consumed from the partition, -1 before the first. */
  nextOffset = -1;
  /** The group's committed offset when the partition was assigned (-1: none, or not read yet): where reading starts. */
  committedAtAssign = -1;
  /** Offset of the first record consumed under this assignment (-1 before it): a rewind's fallback. */
  firstOffset = -1;
  /** Records that completed ahead of the commit position this assignment started from (or rewound to): skipped. */
  completed: CompletedOffsets | null = null;
  /** While restoring: records fetched before the pause took hold, handled once prepared. */
  #held: Message[] = [];
  /** While rewinding: the offset the consume loop still has to seek back to. */
  #seekTo: number | null = null;
  /**
   * After a rewind's seek back from this offset: records at or beyond it still arriving were fetched
   * before the client applied the seek (an asynchronous seek does not purge what was already fetched),
   * so they are dropped until the first record below it — the re-read — arrives. Null: none pending.
   */
  #staleFrom: number | null = null;
  /** While revoking: settlements of abandoned records, run once the partition is let go. */
  #onRelease: (() => void)[] = [];

  constructor(
    readonly topic: string,
    readonly partition: number,
    assignmentId: number,
  ) {
    this.#lifecycle = new PartitionLifecycle(partition);
    this.#tracker = new PartitionOffsetTracker(topic, partition);
    this.#assignmentId = assignmentId;
  }

  get state(): PartitionState {
    return this.#lifecycle.state;
  }

  get tracker(): PartitionOffsetTracker {
    return this.#tracker;
  }

  /** Changes each time the partition is (re)assigned or rewound: origins carry it. */
  get assignmentId(): number {
    return this.#assignmentId;
  }

  /** What to do with a record of this partition fetched now: handle it, hold it (restoring), or drop it. */
  get recordAction(): RecordAction {
    return this.#lifecycle.recordAction;
  }

  /** Held back from fetching by its lifecycle: being prepared, or being let go. */
  get holdsFetching(): boolean {
    const state = this.#lifecycle.state;
    return state === 'restoring' || state === 'revoking';
  }

  /** A record read under `assignmentId` is this instance's to produce and commit. */
  owns(assignmentId: number): boolean {
    return this.#assignmentId === assignmentId && this.#lifecycle.state !== 'revoking' && this.#lifecycle.state !== 'released';
  }

  /** Restoring: keeps a fetched record until the partition is prepared. */
  hold(message: Message): void {
    if (this.#lifecycle.state !== 'restoring') throw new Error(`partition ${this.partition}: records are held only while restoring (state '${this.state}')`);
    this.#held.push(message);
  }

  /** Restoring → active: returns the records held meanwhile, to be handled in order. */
  prepared(completed: CompletedOffsets | null): Message[] {
    this.#lifecycle.apply('prepared');
    this.completed = completed;
    return this.#held.splice(0);
  }

  /** → revoking (exactly-once): nothing more of it is handed out or produced. */
  beginRevoking(): void {
    this.#lifecycle.apply('begin-revoke');
    this.#held = [];
    this.#seekTo = null;
  }

  /**
   * After an aborted transaction: back to the committed offset (or the first offset read) with a new
   * assignment id and a fresh tracker. Returns the records that were unsettled (no longer counted).
   * A revoking partition is not read again; an active or rewinding one waits for its seek.
   */
  rewind(newAssignmentId: number): number {
    const seekTo = this.lastCommitted >= 0 ? this.lastCommitted : this.firstOffset;
    // The record before nextOffset was handed out, so a seek below it has that record to read again.
    this.#staleFrom = seekTo >= 0 && this.nextOffset > seekTo ? (this.#staleFrom === null ? this.nextOffset : Math.max(this.#staleFrom, this.nextOffset)) : this.#staleFrom;
    this.#tracker.revoke();
    const dropped = this.#tracker.unsettled;
    this.#tracker = new PartitionOffsetTracker(this.topic, this.partition);
    this.#assignmentId = newAssignmentId;
    this.nextOffset = seekTo;
    this.firstOffset = seekTo;
    // What completed ahead of the last commit had its outputs committed with it: not again.
    this.completed =
      this.lastCommitted >= 0 ? decodeCompleted(this.lastCommitted, this.lastCommittedMetadata) : this.completed === null ? null : new CompletedOffsets(this.completed.ranges);
    if (this.#lifecycle.state === 'revoking') {
      this.#lifecycle.apply('rewind');
    } else if (seekTo >= 0) {
      this.#lifecycle.apply('rewind');
      this.#seekTo = seekTo;
    }
    return dropped;
  }

  /** Rewinding → active: the seek the loop must issue now (null when none is pending). */
  takeSeek(): number | null {
    if (this.#seekTo === null) return null;
    const seekTo = this.#seekTo;
    this.#seekTo = null;
    this.#lifecycle.apply('seek-issued');
    return seekTo;
  }

  /**
   * Whether a record fetched now is a stale one from before the rewind's seek took effect (see
   * #staleFrom): true drops it. The first record below that offset ends the wait.
   */
  fetchedBeforeSeek(offset: number): boolean {
    if (this.#staleFrom === null) return false;
    if (offset >= this.#staleFrom) return true;
    this.#staleFrom = null;
    return false;
  }

  /** Runs `settle` at the release when revoking (see KafkaSource.whenLetGo); reports whether it waits. */
  settleAtRelease(assignmentId: number, settle: () => void): boolean {
    if (this.#lifecycle.state !== 'revoking' || this.#assignmentId !== assignmentId) return false;
    this.#onRelease.push(settle);
    return true;
  }

  /**
   * → released: its tracker stops moving commits. `dropped` hears how many records were unsettled
   * (no longer counted) before the settlements that waited for the release run.
   */
  release(dropped: (unsettled: number) => void): void {
    this.#lifecycle.apply('release');
    this.#tracker.revoke();
    this.#held = [];
    this.#seekTo = null;
    dropped(this.#tracker.unsettled);
    for (const settle of this.#onRelease.splice(0)) settle();
  }
}
