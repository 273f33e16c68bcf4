/**
 * The assignment lifecycle of the source's partitions, driven by the client's rebalance callback:
 * assigned partitions are paused and prepared (completed-ahead records read, operator state restored)
 * before their first record; revoked ones commit what settled (at-least-once: at once; exactly-once:
 * through the caller's transaction, `beforeRevoke`) and are then released. The states and moves are
 * those of partition-lifecycle.ts.
 */
import { AssignedPartition } from './assigned-partition.js';
import { CODES, type KafkaConsumerInstance, type LibrdKafkaError, type Message, type TopicPartition } from './client.js';
import { decodeCompleted, type CompletedOffsets } from './completed-offsets.js';
import type { SourceState } from './source-state.js';
import type { WatermarkTracker } from '../../core/event-time/watermark-tracker.js';

/** What the assignment lifecycle needs of the source around it. */
export interface AssignmentHooks {
  readonly topic: string;
  readonly log: (message: string) => void;
  /** Restores operator state of newly assigned partitions (they stay paused until it resolves). */
  readonly onAssigned?: (partitions: readonly number[]) => Promise<void>;
  /** At-least-once: after the revoke's commit, with each partition's committed offset. */
  readonly onRevoked?: (committed: ReadonlyMap<number, number>) => void;
  /** Exactly-once: commits the transaction; the partitions are released once it resolves. */
  readonly beforeRevoke?: (partitions: readonly number[]) => Promise<void>;
  /** Handles a record held while its partition was restoring. */
  handleHeld(message: Message): void;
  applyPauses(): void;
  commit(sync: boolean): void;
  fatal(error: Error): void;
}

/** Methods the client has (lib/kafka-consumer.js) but its type declarations omit. */
interface CooperativeMethods {
  rebalanceProtocol(): 'COOPERATIVE' | 'EAGER' | 'NONE';
  incrementalAssign(assignments: TopicPartition[]): void;
  incrementalUnassign(assignments: TopicPartition[]): void;
}

export class PartitionAssignments {
  readonly #consumer: KafkaConsumerInstance & CooperativeMethods;

  constructor(
    consumer: KafkaConsumerInstance,
    private readonly state: SourceState,
    private readonly watermarks: WatermarkTracker,
    private readonly hooks: AssignmentHooks,
  ) {
    this.#consumer = consumer as KafkaConsumerInstance & CooperativeMethods;
  }

  /** The client's rebalance_cb. */
  onRebalance(err: LibrdKafkaError, assignment: TopicPartition[]): void {
    const cooperative = this.#consumer.rebalanceProtocol() === 'COOPERATIVE';
    try {
      if (err.code === CODES.ERRORS.ERR__ASSIGN_PARTITIONS) this.#assign(assignment, cooperative);
      else if (err.code === CODES.ERRORS.ERR__REVOKE_PARTITIONS) this.#revoke(assignment, cooperative);
      else this.hooks.log(`rebalance error: ${err.message}`);
    } catch (error) {
      this.hooks.fatal(error as Error);
    }
  }

  /** New partitions start restoring: paused in the same turn as assigned, prepared, then resumed. */
  #assign(assignment: TopicPartition[], cooperative: boolean): void {
    const { state, hooks } = this;
    const prepared: AssignedPartition[] = [];
    for (const { partition } of assignment) {
      const assigned = new AssignedPartition(hooks.topic, partition, state.nextAssignmentId++);
      state.partitions.set(partition, assigned);
      this.watermarks.addPartition(partition);
      prepared.push(assigned);
    }
    state.everAssigned = true;
    state.emptyPollSinceAssign = false;
    state.lastRecordAtMs = Date.now();
    if (cooperative) this.#consumer.incrementalAssign(assignment);
    else this.#consumer.assign(assignment);
    hooks.log(`assigned ${hooks.topic} partitions [${assignment.map((a) => a.partition).join(', ')}]`);
    if (assignment.length === 0) return;
    // Paused in the same turn as assigned: nothing of theirs is processed before the restore.
    this.#consumer.pause(assignment.map(({ partition }) => ({ topic: hooks.topic, partition })));
    state.stats.pausedPartitions += assignment.length;
    this.#prepareThenResume(prepared);
  }

  /**
   * Reads what the partitions' committed offsets say completed ahead (skipped when read) and, with
   * `onAssigned`, restores their state; then handles what was held and lets them resume.
   */
  #prepareThenResume(partitions: readonly AssignedPartition[]): void {
    const numbers = partitions.map((assigned) => assigned.partition);
    Promise.all([this.#readCompleted(numbers), this.hooks.onAssigned?.(numbers)]).then(
      ([completed]) => {
        for (const assigned of partitions) {
          // Revoked (or revoked and assigned again) while preparing: that assignment prepares itself.
          if (assigned.state !== 'restoring' || this.state.partitions.get(assigned.partition) !== assigned) continue;
          // Fetched before the pause took hold; handled now, in order, before the partition resumes.
          for (const message of assigned.prepared(completed.get(assigned.partition) ?? null)) this.hooks.handleHeld(message);
        }
        this.hooks.applyPauses();
      },
      (error: unknown) => this.hooks.fatal(new Error(`restoring state for partitions [${numbers.join(', ')}] failed: ${(error as Error).message}`)),
    );
  }

  /**
   * The completed-ahead records named by each partition's committed offset. A failure to read them is
   * not fatal: nothing is skipped then, so those records are processed again (never lost).
   */
  #readCompleted(partitions: readonly number[]): Promise<Map<number, CompletedOffsets>> {
    const { topic, log } = this.hooks;
    return new Promise((resolve) =>
      this.#consumer.committed(
        partitions.map((partition) => ({ topic, partition })),
        15_000,
        (err, committed) => {
          const completed = new Map<number, CompletedOffsets>();
          if (err) {
            log(`cannot read the committed offsets of ${topic} partitions [${partitions.join(', ')}] (${err.message}): records completed ahead of them will be processed again`);
            return resolve(completed);
          }
          for (const { partition, offset, metadata } of committed ?? []) {
            if (offset === undefined || offset < 0) continue;
            const assigned = this.state.partitions.get(partition);
            if (assigned !== undefined) assigned.committedAtAssign = offset;
            try {
              const named = decodeCompleted(offset, metadata);
              if (named !== null) completed.set(partition, named);
            } catch (error) {
              log(`${topic}[${partition}]: ${(error as Error).message}; nothing is skipped`);
            }
          }
          resolve(completed);
        },
      ),
    );
  }

  #revoke(assignment: TopicPartition[], cooperative: boolean): void {
    const beforeRevoke = this.hooks.beforeRevoke;
    if (beforeRevoke !== undefined) {
      this.#revokeAfterTransaction(assignment, cooperative, beforeRevoke);
      return;
    }
    // Commit what has settled, then let go: records still in flight for these partitions will be
    // re-read by their next owner (at-least-once), never committed by this instance.
    this.hooks.commit(true);
    if (this.hooks.onRevoked !== undefined) {
      const committed = new Map<number, number>();
      for (const { partition } of assignment) {
        const assigned = this.state.partitions.get(partition);
        if (assigned !== undefined && assigned.state !== 'restoring') committed.set(partition, assigned.lastCommitted);
      }
      if (committed.size > 0) this.hooks.onRevoked(committed);
    }
    this.#release(assignment, cooperative);
  }

  /**
   * Exactly-once: nothing more of these partitions is handed out; the running transaction is
   * committed (with what settled of them), and only then are they let go. librdkafka waits for the
   * unassign, so the next owner starts after that commit.
   */
  #revokeAfterTransaction(assignment: TopicPartition[], cooperative: boolean, beforeRevoke: (partitions: readonly number[]) => Promise<void>): void {
    const partitions: number[] = [];
    for (const { partition } of assignment) {
      const assigned = this.state.partitions.get(partition);
      if (assigned === undefined) continue;
      assigned.beginRevoking();
      partitions.push(partition);
    }
    beforeRevoke(partitions).then(
      () => this.#release(assignment, cooperative),
      (error: unknown) => this.hooks.fatal(new Error(`committing before revoking partitions [${partitions.join(', ')}] failed: ${(error as Error).message}`)),
    );
  }

  /** Lets revoked partitions go: their records still in flight no longer move this instance's commits. */
  #release(assignment: TopicPartition[], cooperative: boolean): void {
    const { state, hooks } = this;
    try {
      for (const { partition } of assignment) {
        const assigned = state.partitions.get(partition);
        if (assigned === undefined) continue;
        const wasPaused = assigned.paused;
        state.partitions.delete(partition);
        this.watermarks.removePartition(partition);
        assigned.release((unsettled) => {
          state.stats.unsettled -= unsettled;
          if (wasPaused) state.stats.pausedPartitions--;
        });
      }
      if (cooperative) this.#consumer.incrementalUnassign(assignment);
      else this.#consumer.unassign();
      hooks.log(`revoked ${hooks.topic} partitions [${assignment.map((a) => a.partition).join(', ')}]`);
      state.roomWaiter?.();
    } catch (error) {
      hooks.fatal(error as Error);
    }
  }
}
