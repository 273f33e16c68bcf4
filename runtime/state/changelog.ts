/**
 * The changelog of a topology's operator state: one compacted topic per state namespace and stateful
 * step, `<namespace>.<step>.changelog`. The namespace is the consumer group unless `--state-namespace`
 * says otherwise, so two groups running one topology on one broker never restore each other's state.
 *
 * Per input partition the topic holds the step's snapshot for that partition, cut into chunks that fit
 * the producer's `message.max.bytes`, and a manifest naming them (snapshot-chunks.ts). An assembled
 * manifest is a {@link ChangelogEntry}: the snapshot (plain JSON, as the operator's
 * `OperatorStateHandle` gives it), the input partition it was written for, the committed offset of that
 * partition it matches, who wrote it and when. Compaction keeps the latest record per key, so reading
 * the topic to its end yields the state of every partition with a bounded read.
 *
 * Before chunking, a changelog record held a whole snapshot (`format: 1`, key `<step>:<partition>`);
 * such records are still read, so state written by the previous release restores.
 *
 * The topic has one partition: one partition keeps a restore to a single fetch loop.
 */
import { CODES, KafkaConsumer, type Message } from '../kafka/client.js';
import type { TopicSpec } from '../kafka/admin.js';
import type { OperatorSnapshot } from '../../core/state.js';
import { assembleSnapshot, chunkKey, manifestKey, snapshotOriginOf, type SnapshotManifest, type SnapshotOrigin } from './snapshot-chunks.js';

/** `<namespace>.<step>.changelog` — the name is part of the contract (operators, dashboards). */
export function changelogTopic(namespace: string, step: string): string {
  return `${namespace}.${step}.changelog`;
}

/** The record key of a step's state (its manifest) for one input partition. */
export function changelogKey(step: string, partition: number): string {
  return manifestKey(step, partition);
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
      // Chunks are a quarter of the producer's message.max.bytes; this leaves room for batches of them.
      'max.message.bytes': '16777216',
    },
  };
}

export interface ChangelogEntry extends SnapshotOrigin {
  /** 1: a whole snapshot in one record (previous release); 2: assembled from a manifest and its chunks. */
  readonly format: 1 | 2;
  readonly snapshot: OperatorSnapshot;
  /** Format 2: the manifest it was assembled from. */
  readonly manifest?: SnapshotManifest;
}

export function encodeEntry(entry: ChangelogEntry): Buffer {
  return Buffer.from(JSON.stringify(entry));
}

/** Decodes a whole-snapshot (format 1) changelog value; returns an error message instead of throwing on a foreign record. */
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

/** Decodes the value under a manifest key: a manifest (format 2), a whole snapshot (format 1), or why neither. */
export function decodeManifestOrEntry(value: Buffer): SnapshotManifest | ChangelogEntry | string {
  let parsed: { format?: unknown; kind?: unknown };
  try {
    parsed = JSON.parse(value.toString('utf8')) as { format?: unknown; kind?: unknown };
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
  if (parsed.format === 1) return decodeEntry(value);
  const m = parsed as Partial<SnapshotManifest>;
  if (
    m.format !== 2 || m.kind !== 'manifest' || typeof m.step !== 'string' || typeof m.partition !== 'number' || (m.slot !== 'a' && m.slot !== 'b') ||
    typeof m.snapshotId !== 'string' || !Number.isInteger(m.chunks) || typeof m.sha256 !== 'string' || typeof m.bytes !== 'number'
  ) {
    return 'not a changelog manifest { format: 2, kind: manifest, step, partition, slot, snapshotId, chunks, bytes, sha256, … }';
  }
  return m as SnapshotManifest;
}

/**
 * The entry of `step` for `partition` from a changelog's latest records (key → value), or null when
 * there is none, or why it cannot be used (a chunk missing or of another snapshot, a bad record).
 */
export function entryOf(records: ReadonlyMap<string, Buffer>, step: string, partition: number): ChangelogEntry | null | string {
  const value = records.get(manifestKey(step, partition));
  if (value === undefined) return null;
  const decoded = decodeManifestOrEntry(value);
  if (typeof decoded === 'string' || decoded.format === 1) return decoded;
  const manifest = decoded as SnapshotManifest;
  const text = assembleSnapshot(manifest, (index) => records.get(chunkKey(step, partition, manifest.slot, index)));
  if (typeof text === 'string') return text;
  let snapshot: OperatorSnapshot;
  try {
    snapshot = JSON.parse(text.toString('utf8')) as OperatorSnapshot;
  } catch (error) {
    return `snapshot ${manifest.snapshotId} is not JSON: ${(error as Error).message}`;
  }
  return { format: 2, ...snapshotOriginOf(manifest), snapshot, manifest };
}

/** Every entry a changelog's latest records hold, by manifest key (tests, tools); unusable ones are left out. */
export function entriesOf(records: ReadonlyMap<string, Buffer>): Map<string, ChangelogEntry> {
  const entries = new Map<string, ChangelogEntry>();
  for (const key of records.keys()) {
    const match = /^(.*):(\d+)$/.exec(key);
    if (match === null) continue;
    const entry = entryOf(records, match[1]!, Number(match[2]));
    if (entry !== null && typeof entry !== 'string') entries.set(key, entry);
  }
  return entries;
}

export interface ReadChangelogResult {
  /** The latest value per key (tombstoned keys left out), of the keys asked for. */
  readonly records: Map<string, Buffer>;
  readonly recordsRead: number;
  readonly bytesRead: number;
  readonly elapsedMs: number;
}

/**
 * Reads `topic` (partition 0) from the beginning to the end offset it has when the read starts, and
 * keeps the latest value per key for which `keep(key)` is true (default every key), so a restore
 * holds only the partitions it restores. No consumer group: it never joins or disturbs the topology's
 * group. Reads with `read_committed`, so changelog writes of an aborted transaction are never
 * restored. A topic that does not exist reads as empty.
 */
export async function readChangelog(
  brokers: string,
  topic: string,
  clientConfig: Readonly<Record<string, string | number | boolean>> | undefined,
  keep: (key: string) => boolean = () => true,
  timeoutMs = 300_000,
): Promise<ReadChangelogResult> {
  const startedAt = performance.now();
  const consumer = new KafkaConsumer(
    {
      'bootstrap.servers': brokers,
      'group.id': `signalpath-changelog-${process.pid}`,
      'enable.auto.commit': false,
      'fetch.queue.backoff.ms': 10,
      'isolation.level': 'read_committed',
      // Chunks are up to a quarter of message.max.bytes each: fetch many per request.
      'max.partition.fetch.bytes': 16_777_216,
      log_level: 3,
      ...clientConfig,
    },
    { 'auto.offset.reset': 'earliest' },
  );
  await new Promise<void>((resolve, reject) => consumer.connect({ timeout: 15_000 }, (err) => (err ? reject(new Error(`changelog ${topic}: cannot connect: ${err.message}`)) : resolve())));
  const records = new Map<string, Buffer>();
  let recordsRead = 0;
  let bytesRead = 0;
  try {
    const exists = await new Promise<boolean>((resolve, reject) =>
      consumer.getMetadata({ topic, timeout: 10_000 }, (err, data) =>
        err ? reject(new Error(`changelog ${topic}: ${err.message}`)) : resolve(data.topics.some((t) => t.name === topic && t.partitions.length > 0)),
      ),
    );
    const { highOffset } = !exists
      ? { highOffset: 0 }
      : await new Promise<{ highOffset: number }>((resolve, reject) =>
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
            records.delete(key); // a tombstone releases the key
            continue;
          }
          bytesRead += message.value.length;
          if (keep(key)) records.set(key, message.value);
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
  return { records, recordsRead, bytesRead, elapsedMs: performance.now() - startedAt };
}
