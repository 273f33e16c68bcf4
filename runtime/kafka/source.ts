/**
 * The Kafka source: consumes one input topic with the callback API's `consume(n)` loop, turns each
 * record into an {@link Envelope}, and tracks per partition which offsets have settled, so that it
 * commits only the highest contiguous settled offset.
 *
 * Backpressure is by count of unsettled records, because that is what holds memory: the loop never
 * asks librdkafka for more records than fit under `maxUnsettled`, and a partition whose own unsettled
 * count passes `partitionHighWater` is paused until it falls to `partitionLowWater`, so one slow key
 * cannot starve the others. Flowing mode (consume without a count) has no backpressure at all.
 *
 * Its parts: record-decoder.ts (decoding, what becomes a dead letter), pause-decision.ts (which
 * partitions to pause), assignment.ts with assigned-partition.ts and partition-lifecycle.ts (the
 * per-partition state machine from assigned to released), commit-positions.ts (commit and rewind);
 * this file is the consume loop, the per-record path and the public face.
 */
import { createSettlement, type SettlementOutcome } from '../../core/settlement.js';
import type { Envelope, RecordHeaders, RecordOrigin } from '../../core/envelope.js';
import { hasTraceparentShape, TRACEPARENT } from '../telemetry/trace-context.js';
import { CODES, KafkaConsumer, type KafkaConsumerInstance, type LibrdKafkaError, type Message, type TopicPartition } from './client.js';
import { WatermarkTracker } from '../../core/event-time/watermark-tracker.js';
import type { AssignedPartition } from './assigned-partition.js';
import { PartitionAssignments } from './assignment.js';
import { committedPositions, markCommitted, offsetsToCommit, rewindToCommitted, type OffsetToCommit } from './commit-positions.js';
import { fromKafkaHeaders, keyBytes } from './headers.js';
import { decidePauses } from './pause-decision.js';
import { DecodeDeferred, DecodeFailure, RecordDecoder } from './record-decoder.js';
import { createSourceState, type SourceState, type SourceStats } from './source-state.js';
import type { KafkaSourceOptions, SourceOrigin, SourceReadiness } from './source-options.js';

/**
 * A partition with records left to read holds the watermark for at most this many idle timeouts
 * without a record, and at least LAGGING_HOLD_MIN_MS (a loaded host can take that long to hand over
 * the first records of a partition while it works through another's first batch).
 */
const LAGGING_HOLD_TIMEOUTS = 5;
const LAGGING_HOLD_MIN_MS = 60_000;

export { OVERSIZE_KEPT_BYTES, RecordTooLargeError } from './record-decoder.js';
export type { OffsetToCommit } from './commit-positions.js';
export type { SourceStats } from './source-state.js';
export type { DeadLetterHandler, KafkaSourceOptions, SourceOrigin, SourceReadiness, SourceTelemetry } from './source-options.js';

type Emit<T> = (envelope: Envelope<T>) => void;

export class KafkaSource<T> {
  readonly #state: SourceState = createSourceState();
  readonly stats: SourceStats = this.#state.stats;
  readonly #consumer: KafkaConsumerInstance;
  readonly #watermarks: WatermarkTracker;
  readonly #decoder: RecordDecoder<T>;
  readonly #assignments: PartitionAssignments;
  #loopDone: Promise<void> = Promise.resolve();
  #settledWaiters: (() => void)[] = [];
  #commitTimer: NodeJS.Timeout | undefined;
  #fatal: ((error: Error) => void) | null = null;
  #emit: Emit<T> | null = null;
  #pausesScheduled = false;

  constructor(private readonly options: KafkaSourceOptions<T>) {
    this.#watermarks = new WatermarkTracker({ allowedLatenessMs: options.allowedLatenessMs, idleTimeoutMs: options.idleTimeoutMs, now: () => Date.now() });
    this.#decoder = new RecordDecoder(options);
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
        rebalance_cb: (err: LibrdKafkaError, assignment: TopicPartition[]) => this.#assignments.onRebalance(err, assignment),
        offset_commit_cb: (err: LibrdKafkaError | null) => {
          if (err && err.code !== CODES.ERRORS.ERR__NO_OFFSET) options.log(`offset commit failed: ${err.message}`);
        },
        log_level: 3,
        ...options.clientConfig,
      },
      // auto.offset.reset belongs in the topic configuration: an empty topic config would override it.
      { 'auto.offset.reset': options.startFrom },
    );
    this.#assignments = new PartitionAssignments(this.#consumer, this.#state, this.#watermarks, {
      topic: options.topic,
      log: options.log,
      ...(options.onAssigned === undefined ? {} : { onAssigned: options.onAssigned }),
      ...(options.onRevoked === undefined ? {} : { onRevoked: options.onRevoked }),
      ...(options.beforeRevoke === undefined ? {} : { beforeRevoke: options.beforeRevoke }),
      handleHeld: (message) => this.#handle(message, this.#emit!, false, options.telemetry === undefined ? 0 : performance.now()),
      applyPauses: () => this.#applyPauses(),
      commit: (sync) => this.commit(sync),
      fatal: (error) => this.#fatal?.(error),
    });
  }

  /** Connects, subscribes and starts consuming into `emit`. Resolves once connected. */
  async start(emit: Emit<T>, onFatal: (error: Error) => void): Promise<void> {
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
    const state = this.#state;
    if (!state.everAssigned) return null;
    // Paused or blocked at maxUnsettled: there is input left to read, so this is not idle.
    if (state.stats.pausedPartitions > 0 || state.blockedSinceMs !== null) return 0;
    return Date.now() - Math.max(state.lastRecordAtMs, state.lastSettledAtMs);
  }

  /**
   * Ready = partitions assigned and caught up: every partition within `maxLag` records of its high
   * watermark (librdkafka's cached value from the last fetch; no broker round trip). A partition
   * nothing was consumed from yet counts as caught up once a consume call came back empty.
   */
  readiness(maxLag: number): SourceReadiness {
    const { partitions } = this.#state;
    const lag: Record<number, number | null> = {};
    let ready = partitions.size > 0 && !this.#state.stopping;
    for (const [partition, assigned] of partitions) {
      const behind = this.#lagOf(assigned);
      lag[partition] = behind;
      if (behind === null ? !this.#state.emptyPollSinceAssign : behind > maxLag) ready = false;
    }
    return { ready, assignedPartitions: partitions.size, lag };
  }

  /**
   * How long consumption has been blocked at `maxUnsettled` with nothing settling (0 when it is not).
   * A long block is a deadlock: steps hold every unsettled record and wait for input that cannot come.
   */
  blockedForMs(): number {
    const { blockedSinceMs, lastSettledAtMs } = this.#state;
    if (blockedSinceMs === null) return 0;
    return Date.now() - Math.max(blockedSinceMs, lastSettledAtMs);
  }

  /** Stops fetching; records already handed out keep settling. */
  async stopFetching(): Promise<void> {
    this.#state.stopping = true;
    this.#state.roomWaiter?.();
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
    markCommitted(this.#state.partitions, offsets);
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
    return offsetsToCommit(this.#state.partitions.values(), this.stats, this.options.log);
  }

  /** Exactly-once: records offsets (and their metadata) that a committed transaction carried. */
  markCommitted(offsets: readonly { partition: number; offset: number; metadata?: string | null }[]): void {
    markCommitted(this.#state.partitions, offsets);
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
    this.stats.unsettled -= rewindToCommitted(this.#state.partitions.values(), () => this.#state.nextAssignmentId++);
    this.options.log(`transaction aborted: input rewound to the committed offsets`);
    this.#state.roomWaiter?.();
  }

  /** Issues the seeks {@link rewind} left to the loop (between two consume calls, never during one). */
  #applySeeks(): void {
    for (const [partition, assigned] of this.#state.partitions) {
      const seekTo = assigned.takeSeek();
      if (seekTo === null) continue;
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
    return committedPositions(this.#state.partitions.values());
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
    const assigned = this.#state.partitions.get(origin.partition);
    return assigned !== undefined && assigned.owns(assignmentId);
  }

  /**
   * Runs `settle` (an abandoned record's settlement) once the record's partition is let go, if it is
   * being revoked now — a settle before that would let the revoke's commit move past a record whose
   * output was never sent — and at once otherwise (the record's tracker is detached already, so only
   * other members of a merged settlement, from partitions still owned, move on: nothing stalls).
   */
  whenLetGo(origin: RecordOrigin, settle: () => void): void {
    const assigned = this.#state.partitions.get(origin.partition);
    const assignmentId = (origin as Partial<SourceOrigin>).assignmentId;
    if (assigned === undefined || assignmentId === undefined || !assigned.settleAtRelease(assignmentId, settle)) settle();
  }

  /** Final commit and disconnect. */
  async close(): Promise<void> {
    clearInterval(this.#commitTimer);
    this.commit(true);
    await new Promise<void>((resolve) => this.#consumer.disconnect(() => resolve()));
  }

  async #loop(emit: Emit<T>): Promise<void> {
    const { maxUnsettled, batchSize } = this.options;
    const state = this.#state;
    while (!state.stopping) {
      this.#applySeeks();
      const room = maxUnsettled - state.stats.unsettled;
      if (room <= 0) {
        state.blockedSinceMs = Date.now();
        await new Promise<void>((resolve) => (state.roomWaiter = resolve));
        state.roomWaiter = null;
        state.blockedSinceMs = null;
        continue;
      }
      const messages = await this.#consume(Math.min(batchSize, room));
      // Fetched after the stop: not tracked, never committed, re-read by whoever consumes next.
      if (state.stopping) break;
      if (messages.length === 0) {
        state.emptyPollSinceAssign = true;
        // Pauses change with time too: a partition that has produced nothing stops holding the others
        // once it goes idle. With every other partition paused for alignment, empty polls are all that
        // is left to notice it (without this the EOS restart test stalled for good).
        this.#applyPauses();
        continue;
      }
      state.lastRecordAtMs = Date.now();
      // One clock read per batch: the records of a batch were fetched together.
      const batchAtMs = this.options.telemetry === undefined ? 0 : performance.now();
      this.#holdLaggingActive();
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
   * Handles one fetched record by its partition's state: held (restoring), dropped (revoking,
   * rewinding, released), skipped (a repeat, or completed before the commit it starts from), or
   * decoded and emitted (or dead-lettered). Returns a promise when the record must be handled again
   * after it resolves (see resolveWriter); only when `mayResolve`.
   */
  #handle(message: Message, emit: Emit<T>, mayResolve: false, batchAtMs: number): null;
  #handle(message: Message, emit: Emit<T>, mayResolve: boolean, batchAtMs: number): Promise<void> | null;
  #handle(message: Message, emit: Emit<T>, mayResolve: boolean, batchAtMs: number): Promise<void> | null {
    const assigned = this.#state.partitions.get(message.partition);
    // A record of a partition revoked while it was being fetched: leave it to the next owner. Or one
    // fetched before a rewind's seek: read again after it.
    if (assigned === undefined) return null;
    const action = assigned.recordAction;
    if (action !== 'handle') {
      if (action === 'hold') assigned.hold(message);
      return null;
    }
    if (assigned.fetchedBeforeSeek(message.offset) || this.#skipped(message, assigned)) return null;
    const headers = fromKafkaHeaders(message.headers);
    const decoded = this.#decoder.decode(message, headers, mayResolve);
    if (decoded instanceof DecodeDeferred) return decoded.cure;
    this.#deliver(message, assigned, headers, batchAtMs, decoded, emit);
    return null;
  }

  /** A repeat of a record this assignment took, or one completed before its commit: not processed. */
  #skipped(message: Message, assigned: AssignedPartition): boolean {
    if (message.offset < assigned.nextOffset) {
      // The client handed out a record this assignment already took (seen once in a 2M-record lab run,
      // around pause/resume). The first copy is tracked and will settle; a second would break the
      // tracker's order and be processed twice, so it is skipped, before it is even decoded, and
      // counted so it shows: the first is logged, the count is in the run summary (`redelivered`).
      // test/integration/source-redelivery.spec.ts forces repeats with a seek back.
      if (this.stats.redelivered++ === 0) this.options.log(`${message.topic}[${message.partition}]: the client delivered offset ${message.offset} again (next expected ${assigned.nextOffset}); repeats are skipped`);
      return true;
    }
    if (assigned.completed !== null && assigned.completed.has(message.offset)) {
      // Completed before the commit this assignment started from (its outputs were sent): tracked and
      // settled at once, so the commit moves past it, and not processed again.
      assigned.tracker.settle(assigned.tracker.track(message.offset));
      assigned.nextOffset = message.offset + 1;
      if (assigned.firstOffset < 0) assigned.firstOffset = message.offset;
      this.stats.skippedCompleted++;
      return true;
    }
    if (assigned.completed?.exhausted === true) assigned.completed = null;
    return false;
  }

  /**
   * Tracks a decoded record (or one that failed to decode) and hands it on: emitted with its origin
   * and settlement, or dead-lettered. Per-record hot path: one origin and one settlement, nothing else.
   */
  #deliver(message: Message, assigned: AssignedPartition, headers: RecordHeaders, batchAtMs: number, decoded: T | DecodeFailure, emit: Emit<T>): void {
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
      key: keyBytes(message.key),
      value: this.#decoder.originValue(message),
      telemetrySeq: telemetry === undefined ? -1 : telemetry.consumed(batchAtMs),
      traceparent: telemetry !== undefined && traceparent !== undefined && hasTraceparentShape(traceparent) ? traceparent : null,
      assignmentId: assigned.assignmentId,
    };
    const settlement = createSettlement(
      telemetry === undefined
        ? () => {
            if (tracker.settle(seq)) this.#onSettled();
          }
        : (outcome: SettlementOutcome) => {
            if (tracker.settle(seq)) this.#onSettled();
            telemetry.settled(origin, outcome);
          },
      `${message.topic}[${message.partition}]@${message.offset}`,
    );
    if (decoded instanceof DecodeFailure) {
      stats.deadLettered++;
      this.options.onDeadLetter(origin, 'decode', decoded.error, () => settlement.settle('dead-lettered'));
      return;
    }
    const eventTimeMs = this.options.eventTime ? this.options.eventTime(decoded) : (message.timestamp ?? Date.now());
    const observed = this.#watermarks.observe(message.partition, eventTimeMs);
    if (observed.late) stats.late++;
    emit({ key: origin.key === null ? null : origin.key.toString('utf8'), value: decoded, eventTimeMs, watermarkMs: observed.watermarkMs, headers, origin, settlement });
  }

  #onSettled(): void {
    const state = this.#state;
    state.stats.unsettled--;
    // Cheap enough per settlement (a few ns), and it keeps a slow but moving run from looking idle.
    state.lastSettledAtMs = Date.now();
    if (state.roomWaiter !== null && state.stats.unsettled <= this.options.maxUnsettled - this.options.batchSize / 2) state.roomWaiter();
    if (state.stats.unsettled === 0 && this.#settledWaiters.length > 0) {
      for (const waiter of this.#settledWaiters.splice(0)) waiter();
    }
    if (state.stats.pausedPartitions > 0) this.#applyPausesSoon();
  }

  #applyPausesSoon(): void {
    if (this.#pausesScheduled) return;
    this.#pausesScheduled = true;
    setImmediate(() => {
      this.#pausesScheduled = false;
      this.#applyPauses();
    });
  }

  #applyPauses(): void {
    const { partitionHighWater, partitionLowWater, topic } = this.options;
    const limits = { partitionHighWater, partitionLowWater, maxEventTimeDriftMs: this.options.maxEventTimeDriftMs ?? 0 };
    const { toPause, toResume, aligned } = decidePauses(this.#state.partitions.values(), limits, {
      watermarkMs: (partition) => this.#watermarks.partitionWatermarkMs(partition),
      isIdle: (partition) => this.#watermarks.isIdle(partition),
      lag: (assigned) => this.#lagOf(assigned as AssignedPartition),
      knownEmpty: (partition) => this.#knownEmpty(partition),
    });
    if (toPause.length > 0) this.#consumer.pause(toPause.map((partition) => ({ topic, partition })));
    if (toResume.length > 0) {
      this.#consumer.resume(toResume.map((partition) => ({ topic, partition })));
      // Resumed partitions have input left: the time they were paused is not idle time. Without
      // this, --until-idle stopped a run the moment a partition held back for partitionIdleTimeoutMs
      // let the others go, before they fetched again (their records were never read).
      this.#state.lastRecordAtMs = Date.now();
    }
    this.stats.pausedPartitions += toPause.length - toResume.length;
    this.stats.alignedPartitions = aligned;
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

  /**
   * A partition with records left to read is not idle while the others deliver: its records wait
   * behind their batches or behind a pause of ours. Were it idle, the watermark would jump to the
   * others' event time and its records arrive late. The hold is bounded (LAGGING_HOLD_TIMEOUTS): a
   * partition that delivers nothing for that long (records it cannot read, such as a last
   * transaction's markers) stops holding the others back.
   */
  #holdLaggingActive(): void {
    const holdMs = Math.max(LAGGING_HOLD_MIN_MS, LAGGING_HOLD_TIMEOUTS * this.options.idleTimeoutMs);
    for (const assigned of this.#state.partitions.values()) {
      if (this.#hasInputLeft(assigned)) this.#watermarks.holdActive(assigned.partition, holdMs);
    }
  }

  /**
   * Whether the partition has records left to read, by the client's cached offsets (false when they
   * are unknown). Before its first record, reading starts at the group's committed offset, or (none)
   * at the start of the partition with 'earliest' and at its end with 'latest': under load the first
   * records of a partition can wait in the client's prefetch queue for longer than the idle timeout,
   * while another partition's first batch is worked through.
   */
  #hasInputLeft(assigned: AssignedPartition): boolean {
    try {
      const { lowOffset, highOffset } = this.#consumer.getWatermarkOffsets(this.options.topic, assigned.partition);
      if (highOffset < 0) return false;
      const from = assigned.nextOffset >= 0 ? assigned.nextOffset : assigned.committedAtAssign >= 0 ? assigned.committedAtAssign : this.options.startFrom === 'latest' ? highOffset : Math.max(0, lowOffset);
      return highOffset > from;
    } catch {
      return false;
    }
  }

  #lagOf(assigned: AssignedPartition): number | null {
    if (assigned.nextOffset < 0) return null;
    try {
      const { highOffset } = this.#consumer.getWatermarkOffsets(this.options.topic, assigned.partition);
      return highOffset >= 0 ? Math.max(0, highOffset - assigned.nextOffset) : null;
    } catch {
      return null;
    }
  }
}
