/**
 * The Kafka source: consumes one input topic with the callback API's `consume(n)` loop, turns each
 * record into an {@link Envelope}, and tracks per partition which offsets have settled, so that it
 * commits only the highest contiguous settled offset.
 *
 * Backpressure is by count of unsettled records, because that is what holds memory: the loop never
 * asks librdkafka for more records than fit under `maxUnsettled`, and a partition whose own unsettled
 * count passes `partitionHighWater` is paused until it falls to `partitionLowWater`, so one slow key
 * cannot starve the others. Flowing mode (consume without a count) has no backpressure at all.
 */
import { createSettlement, type SettlementOutcome } from '../../core/settlement.js';
import type { Envelope, RecordHeaders, RecordOrigin } from '../../core/envelope.js';
import type { TracedOrigin } from '../telemetry/stage-clock.js';
import { hasTraceparentShape, TRACEPARENT } from '../telemetry/trace-context.js';
import { PartitionOffsetTracker } from '../offset-tracker.js';
import { CompletedOffsets, decodeCompleted, encodeCompleted } from './completed-offsets.js';
import { CODES, KafkaConsumer, type KafkaConsumerInstance, type LibrdKafkaError, type Message, type TopicPartition } from './client.js';
import { WatermarkTracker } from '../../core/event-time/watermark-tracker.js';

/** Bytes of an oversize value kept in its dead letter (enough to recognise it, never the whole). */
export const OVERSIZE_KEPT_BYTES = 1024;

/** A record value over `maxRecordBytes` (`--max-record-bytes`): dead-lettered, never decoded. */
export class RecordTooLargeError extends Error {
  constructor(readonly bytes: number, readonly maxBytes: number) {
    super(`record value is ${bytes} bytes, over the limit of ${maxBytes} (--max-record-bytes / SIGNALPATH_MAX_RECORD_BYTES); not decoded, the dead letter keeps its first ${OVERSIZE_KEPT_BYTES} bytes`);
    this.name = 'RecordTooLargeError';
  }
}

/** What the source does with a record it could not decode: the runner dead-letters it. */
export type DeadLetterHandler = (origin: RecordOrigin, step: string, error: unknown, settle: () => void) => void;

/**
 * Per-record telemetry hooks (the runner's TopologyTelemetry): called synchronously, no promise.
 * Without them the source stamps nothing and origins carry `telemetrySeq: -1`.
 */
export interface SourceTelemetry {
  /** A record was consumed; `consumedAtMs` is its batch's `performance.now()`. Returns its sequence. */
  consumed(consumedAtMs: number): number;
  /** An input record settled (after the offset tracker has been told). */
  settled(origin: TracedOrigin, outcome: SettlementOutcome): void;
}

/** Readiness: partitions assigned and each within `maxLag` records of its end. */
export interface SourceReadiness {
  readonly ready: boolean;
  readonly assignedPartitions: number;
  /** Records behind the partition's high watermark, per partition; null where not yet known. */
  readonly lag: Readonly<Record<number, number | null>>;
}

export interface KafkaSourceOptions<T> {
  readonly brokers: string;
  readonly group: string;
  readonly topic: string;
  /** Decodes a record value; throws on bad input (the record is then dead-lettered). */
  readonly decode: (bytes: Buffer, headers: RecordHeaders) => T;
  /**
   * Called when decode throws: returns a promise when the error can be cured by fetching something
   * (a writer schema from the registry) — the record is then decoded again — or null to dead-letter.
   */
  readonly resolveWriter?: (error: unknown, bytes: Buffer) => Promise<void> | null;
  /** Event time of a decoded value in epoch ms; default: the Kafka record timestamp. */
  readonly eventTime?: (value: T) => number;
  readonly onDeadLetter: DeadLetterHandler;
  /** Strict bound on records consumed and not yet settled, over all partitions. */
  readonly maxUnsettled: number;
  /** A partition is paused above this many unsettled records and resumed at `partitionLowWater`. */
  readonly partitionHighWater: number;
  readonly partitionLowWater: number;
  /** Records asked of librdkafka per `consume` call. */
  readonly batchSize: number;
  readonly commitIntervalMs: number;
  /** Event-time slack before a record counts as late, and the idle timeout of a partition. */
  readonly allowedLatenessMs: number;
  readonly idleTimeoutMs: number;
  /**
   * Watermark alignment: a partition whose event time runs more than this far ahead of the slowest
   * partition still consuming is paused until it is back within half of it (0 = off). Without it a
   * partition with less traffic races ahead in event time while the watermark (the minimum) waits
   * for the busiest one, and windows and reservoirs hold far more records than they should.
   */
  readonly maxEventTimeDriftMs?: number;
  /** Where a group without committed offsets starts: 'earliest' (default) or 'latest'. */
  readonly startFrom: 'earliest' | 'latest';
  /** Extra librdkafka settings (e.g. security), applied last. */
  readonly clientConfig?: Readonly<Record<string, string | number | boolean>>;
  /**
   * A record value larger than this is dead-lettered without being decoded (`RecordTooLargeError`),
   * carrying only its first {@link OVERSIZE_KEPT_BYTES} bytes, so one huge value can neither blow up
   * decoding nor make a dead letter the broker would refuse. Default: no limit.
   */
  readonly maxRecordBytes?: number;
  readonly log: (message: string) => void;
  readonly telemetry?: SourceTelemetry;
  /**
   * Called when partitions are assigned; they stay paused (records already fetched are held) until
   * the promise resolves, so operator state for them is restored before their first record. A
   * rejection is fatal.
   */
  readonly onAssigned?: (partitions: readonly number[]) => Promise<void>;
  /**
   * Called when partitions are revoked, after what settled was committed and before they are let go:
   * `committed` is each partition's committed offset. Flush their state here (synchronously).
   */
  readonly onRevoked?: (committed: ReadonlyMap<number, number>) => void;
  /**
   * Who commits offsets: 'consumer' (default; this source, every `commitIntervalMs`) or 'transaction'
   * (exactly-once: the caller sends {@link KafkaSource.offsetsToCommit} to its producer's transaction;
   * the source reads with `read_committed`).
   */
  readonly commitBy?: 'consumer' | 'transaction';
  /**
   * Exactly-once: called when partitions are revoked; they are let go once it resolves (the caller
   * commits its transaction there). Replaces `onRevoked`.
   */
  readonly beforeRevoke?: (partitions: readonly number[]) => Promise<void>;
}

/** A partition's position to commit, with the records completed ahead of it (completed-offsets.ts). */
export interface OffsetToCommit {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly metadata: string;
}

/** The origin of a record this source emitted: which assignment of its partition it was read under. */
export interface SourceOrigin extends TracedOrigin {
  /** Changes each time the partition is (re)assigned to this instance. */
  readonly assignmentId: number;
}

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

interface Assigned {
  readonly tracker: PartitionOffsetTracker;
  /** Paused in the client, for either reason below. */
  paused: boolean;
  /** Too many unsettled records (hysteresis between the high- and low-water marks). */
  overHighWater: boolean;
  /** Too far ahead in event time (watermark alignment). */
  aheadOfWatermark: boolean;
  lastCommitted: number;
  /** Offset after the last record consumed from the partition, -1 before the first. */
  nextOffset: number;
  readonly assignmentId: number;
  /**
   * Paused until the partition is prepared — its committed offset's completed-ahead records read and,
   * with `onAssigned`, its state restored; records fetched meanwhile wait in `held`.
   */
  restoring: boolean;
  held: Message[];
  /** Exactly-once: being revoked; records fetched now are left to the next owner. */
  revoking: boolean;
  /** Offset of the first record consumed under this assignment (-1 before it): a rewind's fallback. */
  firstOffset: number;
  /**
   * Exactly-once, after an aborted transaction: the offset the loop still has to seek back to, or null.
   * Until the seek is issued, records of the partition are dropped (they come from before it).
   */
  seekTo: number | null;
  /** Records that completed ahead of the commit position this assignment started from (or rewound to): skipped. */
  completed: CompletedOffsets | null;
  /** The metadata of this instance's last commit of the partition (its completed-ahead records). */
  lastCommittedMetadata: string;
  /** Exactly-once, while revoking: settlements of abandoned records, run once the partition is let go. */
  onLetGo: (() => void)[];
}

export class KafkaSource<T> {
  readonly stats: SourceStats = { consumed: 0, deadLettered: 0, unsettled: 0, maxUnsettledSeen: 0, pausedPartitions: 0, alignedPartitions: 0, commits: 0, late: 0, redelivered: 0, skippedCompleted: 0, completedLeftOut: 0 };
  #consumer: KafkaConsumerInstance;
  #assigned = new Map<number, Assigned>();
  #stopping = false;
  #loopDone: Promise<void> = Promise.resolve();
  #roomWaiter: (() => void) | null = null;
  #settledWaiters: (() => void)[] = [];
  #commitTimer: NodeJS.Timeout | undefined;
  #lastRecordAtMs = Date.now();
  #lastSettledAtMs = 0;
  /** When the loop began waiting for room under maxUnsettled, or null while it is consuming. */
  #blockedSinceMs: number | null = null;
  #everAssigned = false;
  #watermarks: WatermarkTracker;
  #fatal: ((error: Error) => void) | null = null;
  /** A consume call came back empty since the last assignment: the consumer has caught up. */
  #emptyPollSinceAssign = false;
  #nextAssignmentId = 1;
  #emit: ((envelope: Envelope<T>) => void) | null = null;

  constructor(private readonly options: KafkaSourceOptions<T>) {
    this.#watermarks = new WatermarkTracker({
      allowedLatenessMs: options.allowedLatenessMs,
      idleTimeoutMs: options.idleTimeoutMs,
      now: () => Date.now(),
    });
    this.#consumer = new KafkaConsumer(
      {
        'bootstrap.servers': options.brokers,
        'group.id': options.group,
        'client.id': `signalpath-${options.group}`,
        'enable.auto.commit': false,
        'enable.auto.offset.store': false,
        // librdkafka's default (1000 ms) left the consume loop idle half the time; 10 ms doubled throughput.
        'fetch.queue.backoff.ms': 10,
        // librdkafka's prefetch queue (default 64 MB) is most of a consumer's RSS; 16 MB keeps it fed.
        'queued.max.messages.kbytes': 16384,
        'socket.keepalive.enable': true,
        // Incremental rebalancing: a member joining or leaving moves only the partitions that must
        // move; the others keep flowing (and keep their state) through the rebalance.
        'partition.assignment.strategy': 'cooperative-sticky',
        // Exactly-once reads only committed transactions (inputs may be another topology's outputs).
        ...(options.commitBy === 'transaction' ? { 'isolation.level': 'read_committed' } : {}),
        rebalance_cb: (err: LibrdKafkaError, assignment: TopicPartition[]) => this.#onRebalance(err, assignment),
        offset_commit_cb: (err: LibrdKafkaError | null) => {
          if (err && err.code !== CODES.ERRORS.ERR__NO_OFFSET) options.log(`offset commit failed: ${err.message}`);
        },
        log_level: 3,
        ...options.clientConfig,
      },
      // auto.offset.reset belongs in the topic configuration: an empty topic config would override it.
      { 'auto.offset.reset': options.startFrom },
    );
  }

  /** Connects, subscribes and starts consuming into `emit`. Resolves once connected. */
  async start(emit: (envelope: Envelope<T>) => void, onFatal: (error: Error) => void): Promise<void> {
    this.#fatal = onFatal;
    this.#emit = emit;
    await new Promise<void>((resolve, reject) =>
      this.#consumer.connect({ timeout: 15_000 }, (err) =>
        err ? reject(new Error(`cannot reach Kafka at ${this.options.brokers} (KAFKA_BROKERS / --brokers): ${err.message}`)) : resolve(),
      ),
    );
    this.#consumer.setDefaultConsumeTimeout(100);
    // consume(n) otherwise waits up to the timeout for *each* missing message of a batch: the main
    // thread idled half the time while records it already had waited for a full batch.
    (this.#consumer as KafkaConsumerInstance & { setDefaultIsTimeoutOnlyForFirstMessage(on: boolean): void }).setDefaultIsTimeoutOnlyForFirstMessage(true);
    this.#consumer.subscribe([this.options.topic]);
    if (this.options.commitBy !== 'transaction') {
      this.#commitTimer = setInterval(() => this.commit(false), this.options.commitIntervalMs);
      this.#commitTimer.unref();
    }
    this.#loopDone = this.#loop(emit).catch((error: unknown) => onFatal(error as Error));
  }

  /**
   * Milliseconds since anything moved — a record arrived or one settled — or null before any
   * partition was assigned. Records that steps hold (windows, reservoirs) do not settle until the
   * input completes, so "idle" cannot wait for everything to settle; stopping then drains them.
   */
  idleForMs(): number | null {
    if (!this.#everAssigned) return null;
    // Paused or blocked at maxUnsettled: there is input left to read, so this is not idle.
    if (this.stats.pausedPartitions > 0 || this.#blockedSinceMs !== null) return 0;
    return Date.now() - Math.max(this.#lastRecordAtMs, this.#lastSettledAtMs);
  }

  /**
   * Ready = partitions assigned and caught up: every partition within `maxLag` records of its high
   * watermark (librdkafka's cached value from the last fetch; no broker round trip). A partition
   * nothing was consumed from yet counts as caught up once a consume call came back empty.
   */
  readiness(maxLag: number): SourceReadiness {
    const lag: Record<number, number | null> = {};
    let ready = this.#assigned.size > 0 && !this.#stopping;
    for (const [partition, assigned] of this.#assigned) {
      const behind = this.#lagOf(partition, assigned);
      lag[partition] = behind;
      if (behind === null ? !this.#emptyPollSinceAssign : behind > maxLag) ready = false;
    }
    return { ready, assignedPartitions: this.#assigned.size, lag };
  }

  /** True when librdkafka's cached offsets say the partition holds no record (high = 0, or low = high). */
  #knownEmpty(partition: number): boolean {
    try {
      const { lowOffset, highOffset } = this.#consumer.getWatermarkOffsets(this.options.topic, partition);
      // The low offset can be unknown (-1) in the cache; a high offset of 0 alone says "never written".
      return highOffset === 0 || (highOffset > 0 && lowOffset === highOffset);
    } catch {
      return false;
    }
  }

  #lagOf(partition: number, assigned: Assigned): number | null {
    if (assigned.nextOffset < 0) return null;
    try {
      const { highOffset } = this.#consumer.getWatermarkOffsets(this.options.topic, partition);
      return highOffset >= 0 ? Math.max(0, highOffset - assigned.nextOffset) : null;
    } catch {
      return null;
    }
  }

  /**
   * How long consumption has been blocked at `maxUnsettled` with nothing settling (0 when it is not).
   * A long block is a deadlock: steps hold every unsettled record and wait for input that cannot come.
   */
  blockedForMs(): number {
    if (this.#blockedSinceMs === null) return 0;
    return Date.now() - Math.max(this.#blockedSinceMs, this.#lastSettledAtMs);
  }

  /** Stops fetching; records already handed out keep settling. */
  async stopFetching(): Promise<void> {
    this.#stopping = true;
    this.#roomWaiter?.();
    await this.#loopDone;
  }

  /** Resolves when every consumed record has settled, or after `timeoutMs` (returns false then). */
  waitSettled(timeoutMs: number): Promise<boolean> {
    if (this.stats.unsettled === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#settledWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Commits each partition's settled position if it, or what completed ahead of it, changed. `sync` waits for the broker. */
  commit(sync: boolean): void {
    if (this.options.commitBy === 'transaction') return;
    const offsets = this.offsetsToCommit();
    for (const { partition, offset, metadata } of offsets) {
      const assigned = this.#assigned.get(partition)!;
      assigned.lastCommitted = offset;
      assigned.lastCommittedMetadata = metadata;
    }
    if (offsets.length === 0) return;
    this.stats.commits++;
    try {
      if (sync) this.#consumer.commitSync(offsets);
      else this.#consumer.commit(offsets);
    } catch (error) {
      this.options.log(`offset commit failed: ${(error as Error).message}`);
    }
  }

  /**
   * Each partition's settled position, with the records completed ahead of it as metadata (see
   * completed-offsets.ts), where either changed since the last commit. Exactly-once: the caller sends
   * them to its transaction.
   */
  offsetsToCommit(): OffsetToCommit[] {
    const offsets: OffsetToCommit[] = [];
    for (const [partition, assigned] of this.#assigned) {
      if (assigned.restoring) continue;
      const offset = assigned.tracker.commitOffset();
      if (offset === null || offset < assigned.lastCommitted) continue;
      // Ahead of the commit: what settled here, then what the previous commit named that is not read yet.
      const ahead = assigned.tracker.completedAhead();
      if (assigned.completed !== null) ahead.push(...assigned.completed.rangesFrom(assigned.nextOffset < 0 ? offset : assigned.nextOffset));
      const { metadata, leftOut } = encodeCompleted(offset, ahead);
      if (offset === assigned.lastCommitted && metadata === assigned.lastCommittedMetadata) continue;
      if (leftOut > 0 && this.stats.completedLeftOut === 0) {
        this.options.log(`${this.options.topic}[${partition}]: ${leftOut} records completed ahead of offset ${offset} do not fit in the commit metadata; after a handover they are processed again (lower --partition-high-water to keep fewer records in flight)`);
      }
      this.stats.completedLeftOut += leftOut;
      offsets.push({ topic: this.options.topic, partition, offset, metadata });
    }
    return offsets;
  }

  /** Exactly-once: records offsets (and their metadata) that a committed transaction carried. */
  markCommitted(offsets: readonly { partition: number; offset: number; metadata?: string | null }[]): void {
    for (const { partition, offset, metadata } of offsets) {
      const assigned = this.#assigned.get(partition);
      if (assigned === undefined || offset < assigned.lastCommitted) continue;
      assigned.lastCommitted = offset;
      assigned.lastCommittedMetadata = metadata ?? '';
    }
    if (offsets.length > 0) this.stats.commits++;
  }

  /**
   * Exactly-once, after an aborted transaction: every partition goes back to its committed offset.
   * Call it as soon as the abort is known, before anything else is produced: it takes effect at once,
   * so no record read before it can be produced into the next transaction. Each partition gets a new
   * assignment id (records in flight are no longer owned, so their outputs are never produced) and a
   * fresh tracker (nothing settled under the aborted transaction can be committed); the seek back is
   * issued by the consume loop before its next fetch, and records fetched until then are dropped.
   * Partitions still restoring handed nothing out, so they stay as they are; partitions being revoked
   * are not read again here, but lose what settled, so the revoke's commit carries no offsets of theirs.
   */
  rewind(): void {
    for (const [partition, assigned] of this.#assigned) {
      if (assigned.restoring) continue;
      const seekTo = assigned.lastCommitted >= 0 ? assigned.lastCommitted : assigned.firstOffset;
      assigned.tracker.revoke();
      this.stats.unsettled -= assigned.tracker.unsettled;
      this.#assigned.set(partition, {
        ...assigned,
        tracker: new PartitionOffsetTracker(this.options.topic, partition),
        assignmentId: this.#nextAssignmentId++,
        nextOffset: seekTo,
        firstOffset: seekTo,
        seekTo: assigned.revoking || seekTo < 0 ? null : seekTo,
        // What completed ahead of the last commit had its outputs committed with it: not again.
        completed: assigned.lastCommitted >= 0 ? decodeCompleted(assigned.lastCommitted, assigned.lastCommittedMetadata) : assigned.completed === null ? null : new CompletedOffsets(assigned.completed.ranges),
      });
    }
    this.options.log(`transaction aborted: input rewound to the committed offsets`);
    this.#roomWaiter?.();
  }

  /** Issues the seeks {@link rewind} left to the loop (between two consume calls, never during one). */
  #applySeeks(): void {
    for (const [partition, assigned] of this.#assigned) {
      if (assigned.seekTo === null) continue;
      const seekTo = assigned.seekTo;
      assigned.seekTo = null;
      this.#consumer.seek({ topic: this.options.topic, partition, offset: seekTo }, 0, (err) => err && this.#fatal?.(new Error(`rewinding partition ${partition} to ${seekTo} failed: ${err.message}`)));
    }
  }

  /** Exactly-once: the consumer whose group metadata the producer's transaction needs. */
  get transactionConsumer(): KafkaConsumerInstance {
    return this.#consumer;
  }

  /**
   * Each assigned partition's committed offset (-1 where nothing was committed by this instance).
   * Partitions still restoring are left out: this instance's state does not cover them yet, and a
   * snapshot written for them now would hide the one being restored.
   */
  committedPositions(): Map<number, number> {
    const positions = new Map<number, number>();
    for (const [partition, assigned] of this.#assigned) if (!assigned.restoring) positions.set(partition, assigned.lastCommitted);
    return positions;
  }

  /**
   * False when the record's partition was revoked from this instance since it was read, is being
   * revoked (exactly-once), or was rewound: its offset will not be committed here and it is read again
   * (by the next owner, or here after the rewind), so its outputs must not be sent. Settle such a
   * record through {@link whenLetGo}, never directly.
   */
  owns(origin: RecordOrigin): boolean {
    const assignmentId = (origin as Partial<SourceOrigin>).assignmentId;
    if (assignmentId === undefined) return true;
    const assigned = this.#assigned.get(origin.partition);
    return assigned !== undefined && assigned.assignmentId === assignmentId && !assigned.revoking;
  }

  /**
   * Runs `settle` (an abandoned record's settlement) once the record's partition is let go, if it is
   * being revoked now — a settle before that would let the revoke's commit move past a record whose
   * output was never sent — and at once otherwise (the record's tracker is detached already, so only
   * other members of a merged settlement, from partitions still owned, move on: nothing stalls).
   */
  whenLetGo(origin: RecordOrigin, settle: () => void): void {
    const assigned = this.#assigned.get(origin.partition);
    if (assigned !== undefined && assigned.revoking && assigned.assignmentId === (origin as Partial<SourceOrigin>).assignmentId) assigned.onLetGo.push(settle);
    else settle();
  }

  /** Final commit and disconnect. */
  async close(): Promise<void> {
    clearInterval(this.#commitTimer);
    this.commit(true);
    await new Promise<void>((resolve) => this.#consumer.disconnect(() => resolve()));
  }

  async #loop(emit: (envelope: Envelope<T>) => void): Promise<void> {
    const { maxUnsettled, batchSize } = this.options;
    while (!this.#stopping) {
      this.#applySeeks();
      const room = maxUnsettled - this.stats.unsettled;
      if (room <= 0) {
        this.#blockedSinceMs = Date.now();
        await new Promise<void>((resolve) => (this.#roomWaiter = resolve));
        this.#roomWaiter = null;
        this.#blockedSinceMs = null;
        continue;
      }
      const messages = await this.#consume(Math.min(batchSize, room));
      if (this.#stopping) {
        // Fetched after the stop: not tracked, never committed, re-read by whoever consumes next.
        break;
      }
      if (messages.length === 0) {
        this.#emptyPollSinceAssign = true;
        // Pauses change with time too: a partition that has produced nothing stops holding the others
        // once it goes idle. With every other partition paused for alignment, empty polls are all that
        // is left to notice it (without this the EOS restart test stalled for good).
        this.#applyPauses();
        continue;
      }
      this.#lastRecordAtMs = Date.now();
      // One clock read per batch: the records of a batch were fetched together.
      const batchAtMs = this.options.telemetry === undefined ? 0 : performance.now();
      for (const message of messages) {
        const cure = this.#handle(message, emit, true, batchAtMs);
        if (cure !== null) {
          await cure;
          this.#handle(message, emit, false, batchAtMs);
        }
      }
      this.#applyPauses();
    }
  }

  #consume(count: number): Promise<Message[]> {
    return new Promise((resolve, reject) =>
      this.#consumer.consume(count, (err, messages) => {
        if (err && err.code !== CODES.ERRORS.ERR__TIMED_OUT && err.code !== CODES.ERRORS.ERR__PARTITION_EOF) {
          if (err.isFatal) reject(new Error(`Kafka consumer failed: ${err.message}`));
          else this.options.log(`consume: ${err.message} (retrying)`);
        }
        resolve(messages ?? []);
      }),
    );
  }

  /**
   * Returns a promise when the record must be handled again after it resolves (see resolveWriter);
   * only when `mayResolve`, so the second attempt (mayResolve false) returns null.
   */
  #handle(message: Message, emit: (envelope: Envelope<T>) => void, mayResolve: false, batchAtMs: number): null;
  #handle(message: Message, emit: (envelope: Envelope<T>) => void, mayResolve: boolean, batchAtMs: number): Promise<void> | null;
  #handle(message: Message, emit: (envelope: Envelope<T>) => void, mayResolve: boolean, batchAtMs: number): Promise<void> | null {
    const assigned = this.#assigned.get(message.partition);
    // A record of a partition revoked while it was being fetched: leave it to the next owner. Or one
    // fetched before a rewind's seek: read again after it.
    if (assigned === undefined || assigned.revoking || assigned.seekTo !== null) return null;
    if (assigned.restoring) {
      assigned.held.push(message);
      return null;
    }
    if (message.offset < assigned.nextOffset) {
      // The client handed out a record this assignment already took (seen once in a 2M-record lab run,
      // around pause/resume). The first copy is tracked and will settle; a second would break the
      // tracker's order and be processed twice, so it is skipped, before it is even decoded, and
      // counted so it shows: the first is logged, the count is in the run summary (`redelivered`).
      // test/integration/source-redelivery.spec.ts forces repeats with a seek back.
      if (this.stats.redelivered++ === 0) this.options.log(`${message.topic}[${message.partition}]: the client delivered offset ${message.offset} again (next expected ${assigned.nextOffset}); repeats are skipped`);
      return null;
    }
    if (assigned.completed !== null && assigned.completed.has(message.offset)) {
      // Completed before the commit this assignment started from (its outputs were sent): tracked and
      // settled at once, so the commit moves past it, and not processed again.
      assigned.tracker.settle(assigned.tracker.track(message.offset));
      assigned.nextOffset = message.offset + 1;
      if (assigned.firstOffset < 0) assigned.firstOffset = message.offset;
      this.stats.skippedCompleted++;
      return null;
    }
    if (assigned.completed?.exhausted === true) assigned.completed = null;
    const headers = toHeaders(message.headers);
    let value: T | undefined;
    let decodeError: unknown = null;
    const maxRecordBytes = this.options.maxRecordBytes;
    const oversize = maxRecordBytes !== undefined && message.value !== null && message.value.length > maxRecordBytes;
    try {
      if (message.value === null) throw new Error('record has no value (a tombstone); the contract requires one');
      if (oversize) throw new RecordTooLargeError(message.value.length, maxRecordBytes!);
      value = this.options.decode(message.value, headers);
    } catch (error) {
      const cure = mayResolve && message.value !== null ? (this.options.resolveWriter?.(error, message.value) ?? null) : null;
      if (cure !== null) return cure;
      decodeError = error;
    }
    const tracker = assigned.tracker;
    const seq = tracker.track(message.offset);
    const stats = this.stats;
    stats.consumed++;
    if (++stats.unsettled > stats.maxUnsettledSeen) stats.maxUnsettledSeen = stats.unsettled;
    assigned.nextOffset = message.offset + 1;
    if (assigned.firstOffset < 0) assigned.firstOffset = message.offset;
    const telemetry = this.options.telemetry;
    const traceparent = headers[TRACEPARENT];
    // Every origin has the same shape (telemetry on or off), so the hot path stays monomorphic.
    const origin: SourceOrigin = {
      topic: message.topic,
      partition: message.partition,
      offset: message.offset,
      key: toBuffer(message.key),
      value: oversize ? Buffer.from(message.value!.subarray(0, OVERSIZE_KEPT_BYTES)) : message.value,
      telemetrySeq: telemetry === undefined ? -1 : telemetry.consumed(batchAtMs),
      traceparent: telemetry !== undefined && traceparent !== undefined && hasTraceparentShape(traceparent) ? traceparent : null,
      assignmentId: assigned.assignmentId,
    };
    const settlement = createSettlement(
      telemetry === undefined
        ? () => {
            if (tracker.settle(seq)) this.#onSettled();
          }
        : (outcome) => {
            if (tracker.settle(seq)) this.#onSettled();
            telemetry.settled(origin, outcome);
          },
      `${message.topic}[${message.partition}]@${message.offset}`,
    );
    if (decodeError !== null) {
      stats.deadLettered++;
      this.options.onDeadLetter(origin, 'decode', decodeError, () => settlement.settle('dead-lettered'));
      return null;
    }
    const eventTimeMs = this.options.eventTime ? this.options.eventTime(value as T) : (message.timestamp ?? Date.now());
    const observed = this.#watermarks.observe(message.partition, eventTimeMs);
    if (observed.late) stats.late++;
    emit({
      key: origin.key === null ? null : origin.key.toString('utf8'),
      value: value as T,
      eventTimeMs,
      watermarkMs: observed.watermarkMs,
      headers,
      origin,
      settlement,
    });
    return null;
  }

  #onSettled(): void {
    this.stats.unsettled--;
    // Cheap enough per settlement (a few ns), and it keeps a slow but moving run from looking idle.
    this.#lastSettledAtMs = Date.now();
    if (this.#roomWaiter !== null && this.stats.unsettled <= this.options.maxUnsettled - this.options.batchSize / 2) this.#roomWaiter();
    if (this.stats.unsettled === 0 && this.#settledWaiters.length > 0) {
      for (const waiter of this.#settledWaiters.splice(0)) waiter();
    }
    if (this.stats.pausedPartitions > 0) this.#applyPausesSoon();
  }

  #resumeScheduled = false;
  #applyPausesSoon(): void {
    if (this.#resumeScheduled) return;
    this.#resumeScheduled = true;
    setImmediate(() => {
      this.#resumeScheduled = false;
      this.#applyPauses();
    });
  }

  #applyPauses(): void {
    const { partitionHighWater, partitionLowWater, topic } = this.options;
    const driftMs = this.options.maxEventTimeDriftMs ?? 0;
    // The reference for alignment: the slowest partition that can still move the watermark — one
    // with records left to read and not itself paused for being ahead.
    // A partition that has not produced yet (-Infinity) is the slowest of all: at start-up one
    // partition's first fetch can span minutes of event time before another's arrives, and the
    // steps would close windows under the late partition's records. It stops holding the others once
    // it is known to be empty or goes idle (partitionIdleTimeoutMs), so an empty partition cannot
    // stall the start for longer than that.
    let slowestMs = Infinity;
    if (driftMs > 0) {
      for (const [partition, assigned] of this.#assigned) {
        if (assigned.aheadOfWatermark || this.#lagOf(partition, assigned) === 0) continue;
        if (this.#watermarks.isIdle(partition) || (assigned.nextOffset < 0 && this.#knownEmpty(partition))) continue;
        const watermarkMs = this.#watermarks.partitionWatermarkMs(partition);
        if (watermarkMs < slowestMs) slowestMs = watermarkMs;
      }
    }
    const toPause: TopicPartition[] = [];
    const toResume: TopicPartition[] = [];
    let aligned = 0;
    for (const [partition, assigned] of this.#assigned) {
      const unsettled = assigned.tracker.unsettled;
      if (unsettled >= partitionHighWater) assigned.overHighWater = true;
      else if (unsettled <= partitionLowWater) assigned.overHighWater = false;
      if (driftMs > 0 && slowestMs === -Infinity) {
        assigned.aheadOfWatermark = this.#watermarks.partitionWatermarkMs(partition) !== -Infinity;
      } else if (driftMs > 0 && slowestMs !== Infinity) {
        const aheadMs = this.#watermarks.partitionWatermarkMs(partition) - slowestMs;
        if (aheadMs > driftMs) assigned.aheadOfWatermark = true;
        else if (aheadMs <= driftMs / 2) assigned.aheadOfWatermark = false;
      } else {
        assigned.aheadOfWatermark = false;
      }
      if (assigned.aheadOfWatermark) aligned++;
      const pause = assigned.overHighWater || assigned.aheadOfWatermark || assigned.restoring;
      if (pause && !assigned.paused) toPause.push({ topic, partition });
      else if (!pause && assigned.paused) toResume.push({ topic, partition });
      assigned.paused = pause;
    }
    if (toPause.length > 0) this.#consumer.pause(toPause);
    if (toResume.length > 0) {
      this.#consumer.resume(toResume);
      // Resumed partitions have input left: the time they were paused is not idle time. Without
      // this, --until-idle stopped a run the moment a partition held back for partitionIdleTimeoutMs
      // let the others go, before they fetched again (their records were never read).
      this.#lastRecordAtMs = Date.now();
    }
    this.stats.pausedPartitions += toPause.length - toResume.length;
    this.stats.alignedPartitions = aligned;
  }

  /**
   * Prepares newly assigned partitions, which stay paused meanwhile: reads what their committed
   * offsets say completed ahead (skipped when read) and, with `onAssigned`, restores their state.
   */
  #prepareThenResume(partitions: readonly number[]): void {
    Promise.all([this.#readCompleted(partitions), this.options.onAssigned?.(partitions)]).then(
      ([completed]) => {
        for (const partition of partitions) {
          const assigned = this.#assigned.get(partition);
          // Revoked (or revoked and assigned again) while preparing: that assignment prepares itself.
          if (assigned === undefined || !assigned.restoring) continue;
          assigned.restoring = false;
          assigned.completed = completed.get(partition) ?? null;
          const held = assigned.held;
          assigned.held = [];
          // Fetched before the pause took hold; handled now, in order, before the partition resumes.
          for (const message of held) this.#handle(message, this.#emit!, false, this.options.telemetry === undefined ? 0 : performance.now());
        }
        this.#applyPauses();
      },
      (error: unknown) => this.#fatal?.(new Error(`restoring state for partitions [${partitions.join(', ')}] failed: ${(error as Error).message}`)),
    );
  }

  /**
   * The completed-ahead records named by each partition's committed offset. A failure to read them is
   * not fatal: nothing is skipped then, so those records are processed again (never lost).
   */
  #readCompleted(partitions: readonly number[]): Promise<Map<number, CompletedOffsets>> {
    const topic = this.options.topic;
    return new Promise((resolve) =>
      this.#consumer.committed(
        partitions.map((partition) => ({ topic, partition })),
        15_000,
        (err, committed) => {
          const completed = new Map<number, CompletedOffsets>();
          if (err) {
            this.options.log(`cannot read the committed offsets of ${topic} partitions [${partitions.join(', ')}] (${err.message}): records completed ahead of them will be processed again`);
            return resolve(completed);
          }
          for (const { partition, offset, metadata } of committed ?? []) {
            if (offset === undefined || offset < 0) continue;
            try {
              const named = decodeCompleted(offset, metadata);
              if (named !== null) completed.set(partition, named);
            } catch (error) {
              this.options.log(`${topic}[${partition}]: ${(error as Error).message}; nothing is skipped`);
            }
          }
          resolve(completed);
        },
      ),
    );
  }

  #onRebalance(err: LibrdKafkaError, assignment: TopicPartition[]): void {
    const consumer = this.#consumer as KafkaConsumerInstance & CooperativeMethods;
    const cooperative = consumer.rebalanceProtocol() === 'COOPERATIVE';
    try {
      if (err.code === CODES.ERRORS.ERR__ASSIGN_PARTITIONS) {
        // Every partition is prepared before its first record (see #prepareThenResume).
        const restoring = true;
        for (const { partition } of assignment) {
          this.#assigned.set(partition, {
            tracker: new PartitionOffsetTracker(this.options.topic, partition),
            paused: restoring,
            overHighWater: false,
            aheadOfWatermark: false,
            lastCommitted: -1,
            nextOffset: -1,
            assignmentId: this.#nextAssignmentId++,
            restoring,
            held: [],
            revoking: false,
            firstOffset: -1,
            seekTo: null,
            completed: null,
            lastCommittedMetadata: '',
            onLetGo: [],
          });
          this.#watermarks.addPartition(partition);
        }
        this.#everAssigned = true;
        this.#emptyPollSinceAssign = false;
        this.#lastRecordAtMs = Date.now();
        if (cooperative) consumer.incrementalAssign(assignment);
        else this.#consumer.assign(assignment);
        this.options.log(`assigned ${this.options.topic} partitions [${assignment.map((a) => a.partition).join(', ')}]`);
        if (restoring && assignment.length > 0) {
          // Paused in the same turn as assigned: nothing of theirs is processed before the restore.
          this.#consumer.pause(assignment.map(({ partition }) => ({ topic: this.options.topic, partition })));
          this.stats.pausedPartitions += assignment.length;
          this.#prepareThenResume(assignment.map(({ partition }) => partition));
        }
      } else if (err.code === CODES.ERRORS.ERR__REVOKE_PARTITIONS) {
        const beforeRevoke = this.options.beforeRevoke;
        if (beforeRevoke !== undefined) {
          // Exactly-once: nothing more of these partitions is handed out; the running transaction is
          // committed (with what settled of them), and only then are they let go. librdkafka waits
          // for the unassign, so the next owner starts after that commit.
          const partitions: number[] = [];
          for (const { partition } of assignment) {
            const assigned = this.#assigned.get(partition);
            if (assigned === undefined) continue;
            assigned.revoking = true;
            partitions.push(partition);
          }
          beforeRevoke(partitions).then(
            () => this.#release(assignment, cooperative),
            (error: unknown) => this.#fatal?.(new Error(`committing before revoking partitions [${partitions.join(', ')}] failed: ${(error as Error).message}`)),
          );
          return;
        }
        // Commit what has settled, then let go: records still in flight for these partitions will be
        // re-read by their next owner (at-least-once), never committed by this instance.
        this.commit(true);
        if (this.options.onRevoked !== undefined) {
          const committed = new Map<number, number>();
          for (const { partition } of assignment) {
            const assigned = this.#assigned.get(partition);
            if (assigned !== undefined && !assigned.restoring) committed.set(partition, assigned.lastCommitted);
          }
          if (committed.size > 0) this.options.onRevoked(committed);
        }
        this.#release(assignment, cooperative);
      } else {
        this.options.log(`rebalance error: ${err.message}`);
      }
    } catch (error) {
      this.#fatal?.(error as Error);
    }
  }

  /** Lets revoked partitions go: their records still in flight no longer move this instance's commits. */
  #release(assignment: TopicPartition[], cooperative: boolean): void {
    try {
      for (const { partition } of assignment) {
        const assigned = this.#assigned.get(partition);
        if (assigned === undefined) continue;
        assigned.tracker.revoke();
        this.stats.unsettled -= assigned.tracker.unsettled;
        if (assigned.paused) this.stats.pausedPartitions--;
        this.#assigned.delete(partition);
        this.#watermarks.removePartition(partition);
        for (const settle of assigned.onLetGo.splice(0)) settle();
      }
      if (cooperative) (this.#consumer as KafkaConsumerInstance & CooperativeMethods).incrementalUnassign(assignment);
      else this.#consumer.unassign();
      this.options.log(`revoked ${this.options.topic} partitions [${assignment.map((a) => a.partition).join(', ')}]`);
      this.#roomWaiter?.();
    } catch (error) {
      this.#fatal?.(error as Error);
    }
  }
}

/** Methods the client has (lib/kafka-consumer.js) but its type declarations omit. */
interface CooperativeMethods {
  rebalanceProtocol(): 'COOPERATIVE' | 'EAGER' | 'NONE';
  incrementalAssign(assignments: TopicPartition[]): void;
  incrementalUnassign(assignments: TopicPartition[]): void;
}

function toBuffer(key: Message['key']): Buffer | null {
  if (key === null || key === undefined) return null;
  return typeof key === 'string' ? Buffer.from(key) : key;
}

const noHeaders: RecordHeaders = Object.freeze({});

function toHeaders(headers: Message['headers']): RecordHeaders {
  if (headers === undefined || headers.length === 0) return noHeaders;
  const result: Record<string, Buffer> = {};
  for (const header of headers) {
    for (const name in header) {
      const value = header[name];
      result[name] = typeof value === 'string' ? Buffer.from(value) : (value as Buffer);
    }
  }
  return result;
}
