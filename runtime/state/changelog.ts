/**
 * The changelog of a topology's operator state: one compacted topic per topology and stateful step,
 * `<topology>.<step>.changelog`, with one record per input partition, keyed `<step>:<partition>`.
 *
 * A record's value is a {@link ChangelogEntry}: the step's snapshot (plain JSON, as the operator's
 * `OperatorStateHandle` gives it), the input partition it was written for, the committed offset of
 * that partition it matches, who wrote it and when. Compaction keeps the latest entry per key, so
 * reading the topic to its end yields the state of every partition with a bounded read.
 *
 * The topic has one partition: its size is steps × input partitions keys once compacted, and one
 * partition keeps a restore to a single fetch loop.
 */
import { CODES, KafkaConsumer, type Message } from '../kafka/client.js';
import type { TopicSpec } from '../kafka/admin.js';
import type { OperatorSnapshot } from '../../core/state.js';

/** `<topology>.<step>.changelog` — the name is part of the contract (operators, dashboards). */
export function changelogTopic(topology: string, step: string): string {
  return `${topology}.${step}.changelog`;
}

/** The record key of a step's state for one input partition. */
export function changelogKey(step: string, partition: number): string {
  return `${step}:${partition}`;
}

/** A compacted topic spec for a changelog; segments roll every minute so compaction can run. */
export function changelogTopicSpec(topic: string): TopicSpec {
  return {
    topic,
    partitions: 1,
    config: {
      'cleanup.policy': 'compact',
      // The active segment is never compacted: a short segment keeps the tail a restore reads short.
      'segment.ms': '60000',
      'min.cleanable.dirty.ratio': '0.1',
      // A snapshot of many keys' detectors can pass the 1 MB default.
      'max.message.bytes': '16777216',
    },
  };
}

export interface ChangelogEntry {
  readonly format: 1;
  readonly step: string;
  readonly partition: number;
  /** The input partition's committed offset when the snapshot was taken (-1: none committed yet). */
  readonly committedOffset: number;
  /** `client.id`-like name of the instance that wrote it (host:pid). */
  readonly writer: string;
  readonly writtenAtMs: number;
  readonly snapshot: OperatorSnapshot;
}

export function encodeEntry(entry: ChangelogEntry): Buffer {
  return Buffer.from(JSON.stringify(entry));
}

/** Decodes a changelog value; returns an error message instead of throwing on a foreign record. */
export function decodeEntry(value: Buffer): ChangelogEntry | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
  const entry = parsed as Partial<ChangelogEntry>;
  if (entry.format !== 1 || typeof entry.step !== 'string' || typeof entry.partition !== 'number' || typeof entry.snapshot !== 'object' || entry.snapshot === null) {
    return 'not a changelog entry { format: 1, step, partition, snapshot, … }';
  }
  return entry as ChangelogEntry;
}

export interface ReadChangelogResult {
  /** Latest entry per key. */
  readonly entries: Map<string, ChangelogEntry>;
  readonly recordsRead: number;
  readonly elapsedMs: number;
}

/**
 * Reads `topic` (partition 0) from the beginning to the end offset it has when the read starts, and
 * keeps the latest entry per key. No consumer group: it never joins or disturbs the topology's group.
 * Reads with `read_committed`, so changelog writes of an aborted transaction are never restored.
 */
export async function readChangelog(
  brokers: string,
  topic: string,
  clientConfig: Readonly<Record<string, string | number | boolean>> | undefined,
  log: (message: string) => void,
  timeoutMs = 30_000,
): Promise<ReadChangelogResult> {
  const startedAt = performance.now();
  const consumer = new KafkaConsumer(
    {
      'bootstrap.servers': brokers,
      'group.id': `signalpath-changelog-${process.pid}`,
      'enable.auto.commit': false,
      'fetch.queue.backoff.ms': 10,
      'isolation.level': 'read_committed',
      log_level: 3,
      ...clientConfig,
    },
    { 'auto.offset.reset': 'earliest' },
  );
  await new Promise<void>((resolve, reject) => consumer.connect({ timeout: 15_000 }, (err) => (err ? reject(new Error(`changelog ${topic}: cannot connect: ${err.message}`)) : resolve())));
  const entries = new Map<string, ChangelogEntry>();
  let recordsRead = 0;
  try {
    const { highOffset } = await new Promise<{ highOffset: number }>((resolve, reject) =>
      consumer.queryWatermarkOffsets(topic, 0, 10_000, (err, offsets) => (err ? reject(new Error(`changelog ${topic}: ${err.message}`)) : resolve(offsets))),
    );
    if (highOffset > 0) {
      consumer.assign([{ topic, partition: 0, offset: 0 }]);
      consumer.setDefaultConsumeTimeout(100);
      const deadline = Date.now() + timeoutMs;
      let position = 0;
      // read_committed stops at the last stable offset; transaction markers take offsets, so the
      // position can reach highOffset without a record at highOffset - 1. An empty poll at the
      // partition end (EOF) ends the read too.
      let atEnd = false;
      while (position < highOffset && !atEnd) {
        if (Date.now() > deadline) throw new Error(`changelog ${topic}: not read to offset ${highOffset} within ${timeoutMs} ms (at ${position})`);
        const batch = await new Promise<Message[]>((resolve, reject) =>
          consumer.consume(1000, (err, messages) => {
            if (err && err.code === CODES.ERRORS.ERR__PARTITION_EOF) atEnd = true;
            else if (err && err.isFatal) return reject(err);
            resolve(messages ?? []);
          }),
        );
        for (const message of batch) {
          position = message.offset + 1;
          recordsRead++;
          const key = message.key === null || message.key === undefined ? null : message.key.toString();
          if (key === null) continue;
          if (message.value === null) {
            entries.delete(key); // a tombstone releases the key
            continue;
          }
          const entry = decodeEntry(message.value);
          if (typeof entry === 'string') log(`changelog ${topic}@${message.offset}: ${entry}; skipped`);
          else entries.set(key, entry);
        }
        if (batch.length === 0 && position < highOffset) {
          // Ask where the fetch position is: past the end through markers counts as the end.
          const [current] = consumer.position([{ topic, partition: 0 }]);
          if (current !== undefined && typeof current.offset === 'number' && current.offset >= highOffset) atEnd = true;
        }
      }
    }
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
  return { entries, recordsRead, elapsedMs: performance.now() - startedAt };
}
