/**
 * The Kafka source's options and the types it hands out (origins, readiness, telemetry hooks).
 */
import type { RecordHeaders, RecordOrigin } from '../../core/envelope.js';
import type { SettlementOutcome } from '../../core/settlement.js';
import type { TracedOrigin } from '../telemetry/stage-clock.js';

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

/** The origin of a record this source emitted: which assignment of its partition it was read under. */
export interface SourceOrigin extends TracedOrigin {
  /** Changes each time the partition is (re)assigned to this instance. */
  readonly assignmentId: number;
}
