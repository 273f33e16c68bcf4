/**
 * Operator state of a running topology, kept in its changelog topics (see changelog.ts).
 *
 * Every step gets an {@link OperatorStateHandle} in its StepContext; a step whose operator attaches
 * to it (passes `state: context.state`) is stateful and gets `<namespace>.<step>.changelog` (the
 * namespace is the consumer group unless the run names another). How a snapshot is laid out in it —
 * chunks under `message.max.bytes` and a manifest written last, two slots so an interrupted write
 * never spoils the last good snapshot — is in snapshot-chunks.ts. A step whose snapshot has not changed since its last write (same SHA-256) writes
 * only a new manifest, with the new committed offset, so snapshot cost follows change.
 *
 * How a snapshot maps to partitions: operators keep one state per instance (per key inside it), not
 * one per input partition, so the instance's snapshot is written once per input partition it holds,
 * under `<step>:<partition>`, with that partition's committed offset. When partitions are assigned,
 * an instance that does not hold state yet (it just started) restores, before any of their records,
 * the newest snapshot written for any of them — the state of the instance that last held them. An
 * instance that already holds state keeps it: most operators' snapshots cannot be merged into live
 * state (counts and baselines would be added twice), so what it learnt about those keys before they
 * moved away is what it continues from. Operators whose snapshot merges soundly (the handle is
 * `mergeable`: windowedDedup's emitted pairs, a union) get each new partition's snapshot merged in,
 * by an instance that holds state and, after the restore, by one that did not (the partitions may
 * come from several instances). Snapshots are applied for the partitions they are read for, so an
 * operator that tags its state by partition takes only theirs. Keys are what state is about, and
 * input is keyed, so the state of a key travels with the partition that carries it.
 *
 * Migration: changelogs were named after the topology (`<topology>.<step>.changelog`) before they
 * were named after the group. For one release, a step that holds no state and finds nothing for its
 * partitions under the new name restores from the old name when that topic has it, and logs it.
 */
import { hostname } from 'node:os';
import { OperatorStateHandle } from '../../core/state.js';
import type { TopicSpec } from '../kafka/admin.js';
import { changelogKey, changelogTopic, changelogTopicSpec, entryOf, readChangelog, type ChangelogEntry, type ReadChangelogResult } from './changelog.js';
import { chunkKey, chunkPayloadBytes, chunkSnapshot, encodeManifest, MAX_CHUNKS, MIN_CHUNK_PAYLOAD_BYTES, CHUNK_OVERHEAD_BYTES, otherSlot, parseChunkKey, sha256, type Slot, type SnapshotManifest } from './snapshot-chunks.js';

/** The producer's `message.max.bytes` when the client settings do not set it (librdkafka's default). */
export const DEFAULT_MESSAGE_MAX_BYTES = 1_000_000;

export interface StepStatesOptions {
  /** The changelog topics' namespace: the run's `stateNamespace`, by default its consumer group. */
  readonly namespace: string;
  /**
   * The namespace of the previous release's changelogs (the topology name), read for one release
   * when the new topic has nothing for a step's partitions. Undefined or equal to `namespace`: none.
   */
  readonly legacyNamespace?: string;
  /** Who writes: the consumer group and `--instance-id`, recorded in every manifest. */
  readonly group?: string;
  readonly instance?: string;
  readonly brokers: string;
  /** The run's client settings; `message.max.bytes` among them sizes the chunks. */
  readonly clientConfig?: Readonly<Record<string, string | number | boolean>>;
  readonly log: (message: string) => void;
  /** Produces one changelog record, or a tombstone (null), through the topology's producer, so it joins its transactions. */
  readonly write: (topic: string, key: string, value: Buffer | null) => void;
  /** Reads a changelog topic to its end. Default: {@link readChangelog} from `brokers`; tests without a broker pass their own. */
  readonly read?: (topic: string, keep: (key: string) => boolean) => Promise<Pick<ReadChangelogResult, 'records' | 'recordsRead'>>;
}

export interface StepStatesStats {
  /** Restores done (one per stateful step and assignment). */
  restores: number;
  /** Duration of the latest restore, all steps, ms. */
  lastRestoreMs: number;
  /** Partition snapshots written (a manifest each, with or without new chunks). */
  snapshotsWritten: number;
  /** Partition snapshots whose state had not changed: only their manifest was written. */
  snapshotsUnchanged: number;
  chunksWritten: number;
  /** Bytes written by the latest snapshot() (chunks and manifests), all steps. */
  lastSnapshotBytes: number;
  /** Duration of the latest snapshot() (serialising, hashing, producing), ms. */
  lastSnapshotMs: number;
}

/** What a restore applied for one step, for logs and tests. */
export interface RestoredStep {
  readonly step: string;
  readonly from: ChangelogEntry | null;
  /** The topic it was restored from (the old name when migrating). */
  readonly topic: string;
  /**
   * 'restored', 'none' (no snapshot for those partitions), 'kept' (this instance holds state), or
   * 'merged' (it holds state, and the operator merged the partitions' snapshots into it).
   */
  readonly action: 'restored' | 'none' | 'kept' | 'merged';
  /** Snapshots merged (one per partition whose snapshot another instance wrote). */
  readonly merged: number;
}

/** What the restores of one step did, over the run (exported as metrics, see state-metrics.ts). */
export interface StepOutcomeCounts {
  /** Restores by action. */
  readonly actions: Record<RestoredStep['action'], number>;
  /** Partition snapshots of other instances merged in. */
  snapshotsMerged: number;
}

/** A snapshot that cannot be written within the producer's limits: the run stops with this. */
export class StateTooLargeError extends Error {
  override readonly name = 'StateTooLargeError';
}

/** What this instance knows is in the changelog for one step and partition. */
interface Written {
  /** The slot the latest manifest names, and the snapshot there (sha256 undefined: unknown, rewrite). */
  slot: Slot | undefined;
  snapshotId: string | undefined;
  sha256: string | undefined;
  chunks: number;
  bytes: number;
  committedOffset: number | undefined;
  /** Chunk keys present per slot (the highest index + 1): those past a new count get tombstones. */
  readonly present: Record<Slot, number>;
}

let instances = 0;

export class StepStates {
  readonly stats: StepStatesStats = { restores: 0, lastRestoreMs: 0, snapshotsWritten: 0, snapshotsUnchanged: 0, chunksWritten: 0, lastSnapshotBytes: 0, lastSnapshotMs: 0 };
  /** Every restore's outcome, latest last (bounded). */
  readonly restored: RestoredStep[] = [];
  /** Restore outcomes per stateful step, counted over the run. */
  readonly outcomes = new Map<string, StepOutcomeCounts>();
  readonly #handles = new Map<string, OperatorStateHandle>();
  /** Steps whose operator already holds state in this process (restored, or started fresh). */
  readonly #holding = new Set<string>();
  /** By manifest key. */
  readonly #written = new Map<string, Written>();
  // Host, process and instance: several runners may share a process (tests, the lab).
  readonly #writer = `${hostname()}:${process.pid}#${++instances}`;
  #snapshotSeq = 0;
  /** The producer's message.max.bytes, and the chunk payload it allows. */
  readonly messageMaxBytes: number;
  readonly chunkPayloadBytes: number;

  constructor(private readonly options: StepStatesOptions) {
    const configured = options.clientConfig?.['message.max.bytes'];
    this.messageMaxBytes = configured === undefined ? DEFAULT_MESSAGE_MAX_BYTES : Number(configured);
    this.chunkPayloadBytes = chunkPayloadBytes(this.messageMaxBytes);
  }

  /** The instance name written into every manifest (host:pid#n). */
  get writer(): string {
    return this.#writer;
  }

  /** The changelog topic of `step` in this run's namespace. */
  topicOf(step: string): string {
    return changelogTopic(this.options.namespace, step);
  }

  /** The handle of `step` (one per step name). */
  handleFor(step: string): OperatorStateHandle {
    let handle = this.#handles.get(step);
    if (handle === undefined) {
      handle = new OperatorStateHandle();
      this.#handles.set(step, handle);
    }
    return handle;
  }

  /** Steps whose operator attached to its handle; meaningful once the stream is subscribed. */
  statefulSteps(): string[] {
    return [...this.#handles].filter(([, handle]) => handle.attached).map(([step]) => step);
  }

  /** The changelog topics to create (compacted), one per stateful step. */
  topicSpecs(): TopicSpec[] {
    return this.statefulSteps().map((step) => changelogTopicSpec(this.topicOf(step)));
  }

  async #read(topic: string, step: string, partitions: readonly number[]): Promise<Pick<ReadChangelogResult, 'records' | 'recordsRead'>> {
    const wanted = new Set(partitions.map(String));
    const keep = (key: string): boolean => {
      const chunk = parseChunkKey(key);
      if (chunk !== null) return chunk.step === step && wanted.has(String(chunk.partition));
      const cut = key.lastIndexOf(':');
      return cut > 0 && key.slice(0, cut) === step && wanted.has(key.slice(cut + 1));
    };
    return this.options.read?.(topic, keep) ?? readChangelog(this.options.brokers, topic, this.options.clientConfig, keep);
  }

  /** Restores state for newly assigned partitions (see the file comment for the rule); logs the time. */
  async restore(partitions: readonly number[]): Promise<RestoredStep[]> {
    const startedAt = performance.now();
    const results: RestoredStep[] = [];
    let recordsRead = 0;
    for (const step of this.statefulSteps()) {
      let topic = this.topicOf(step);
      const read = await this.#read(topic, step, partitions);
      recordsRead += read.recordsRead;
      let found = this.#entries(topic, read.records, step, partitions);
      this.#learn(step, partitions, read.records);
      const legacy = this.options.legacyNamespace;
      if (found.length === 0 && !this.#holding.has(step) && legacy !== undefined && legacy !== this.options.namespace) {
        // One release of reading the old, topology-named changelog (see the file comment).
        const legacyTopic = changelogTopic(legacy, step);
        const legacyRead = await this.#read(legacyTopic, step, partitions);
        recordsRead += legacyRead.recordsRead;
        const legacyFound = this.#entries(legacyTopic, legacyRead.records, step, partitions);
        if (legacyFound.length > 0) {
          this.options.log(`state of ${step}: nothing under ${topic} for partitions [${partitions.join(', ')}]; migrating from the previous release's ${legacyTopic} (${legacyFound.length} partition snapshot${legacyFound.length === 1 ? '' : 's'}); new snapshots go to ${topic}`);
          topic = legacyTopic;
          found = legacyFound;
        }
      }
      let newest: ChangelogEntry | null = null;
      for (const entry of found) if (newest === null || entry.writtenAtMs > newest.writtenAtMs) newest = entry;
      const handle = this.handleFor(step);
      let action: RestoredStep['action'];
      let merged = 0;
      const mergeEach = (skip: ChangelogEntry | null): void => {
        // One merge per partition: each may have come from another instance. Our own writes hold
        // nothing we do not hold already.
        for (const entry of found) {
          if (entry === skip || entry.writer === this.#writer) continue;
          applyEntry(topic, entry, () => handle.merge(entry.snapshot, [entry.partition]));
          merged++;
        }
      };
      if (this.#holding.has(step)) {
        if (handle.mergeable) mergeEach(null);
        action = merged > 0 ? 'merged' : 'kept';
      } else if (newest === null) action = 'none';
      else {
        const from = newest;
        applyEntry(topic, from, () => handle.restore(from.snapshot, partitions));
        if (handle.mergeable) mergeEach(newest);
        action = 'restored';
      }
      this.#holding.add(step);
      results.push({ step, from: newest, topic, action, merged });
      const counts = this.outcomes.get(step) ?? { actions: { restored: 0, none: 0, kept: 0, merged: 0 }, snapshotsMerged: 0 };
      counts.actions[action]++;
      counts.snapshotsMerged += merged;
      this.outcomes.set(step, counts);
    }
    const elapsedMs = performance.now() - startedAt;
    this.stats.restores += results.length;
    this.stats.lastRestoreMs = elapsedMs;
    this.restored.push(...results);
    if (this.restored.length > 1000) this.restored.splice(0, this.restored.length - 1000);
    if (results.length > 0) {
      const what = results
        .map(({ step, from, topic, action, merged }) => {
          const mergedNote = merged > 0 ? ` (+ ${merged} partition snapshot${merged === 1 ? '' : 's'} merged)` : '';
          if (action === 'restored') return `${step} from ${topic}: ${describeWriter(from!)}, partition ${from!.partition} at committed offset ${from!.committedOffset}${from!.manifest === undefined ? '' : `, ${from!.manifest.bytes} bytes in ${from!.manifest.chunks} chunk${from!.manifest.chunks === 1 ? '' : 's'}`}${mergedNote}`;
          return `${step}: ${action}${mergedNote}`;
        })
        .join('; ');
      this.options.log(`state restore for partitions [${partitions.join(', ')}] (namespace ${this.options.namespace}) took ${elapsedMs.toFixed(0)} ms (${recordsRead} changelog records read): ${what}`);
    }
    return results;
  }

  /** The usable entries of `partitions`; an unusable one (a chunk missing, a foreign record) is logged and skipped. */
  #entries(topic: string, records: ReadonlyMap<string, Buffer>, step: string, partitions: readonly number[]): ChangelogEntry[] {
    const found: ChangelogEntry[] = [];
    for (const partition of partitions) {
      const entry = entryOf(records, step, partition);
      if (entry === null) continue;
      if (typeof entry === 'string') this.options.log(`changelog ${topic}, step ${step}, partition ${partition}: ${entry}; skipped`);
      else found.push(entry);
    }
    return found;
  }

  /** Learns what the changelog holds for `partitions` (the slot in use, the chunk keys present), for the next writes. */
  #learn(step: string, partitions: readonly number[], records: ReadonlyMap<string, Buffer>): void {
    const byPartition = new Map<number, Written>();
    for (const partition of partitions) {
      const entry = entryOf(records, step, partition);
      const manifest = entry !== null && typeof entry !== 'string' ? entry.manifest : undefined;
      byPartition.set(partition, {
        slot: manifest?.slot,
        snapshotId: manifest?.snapshotId,
        sha256: manifest?.sha256,
        chunks: manifest?.chunks ?? 0,
        bytes: manifest?.bytes ?? 0,
        committedOffset: undefined,
        present: { a: 0, b: 0 },
      });
    }
    for (const key of records.keys()) {
      const chunk = parseChunkKey(key);
      const written = chunk === null || chunk.step !== step ? undefined : byPartition.get(chunk.partition);
      if (written !== undefined) written.present[chunk!.slot] = Math.max(written.present[chunk!.slot], chunk!.index + 1);
    }
    for (const [partition, written] of byPartition) this.#written.set(changelogKey(step, partition), written);
  }

  /** The committed offset of the latest snapshot this instance wrote for `step` and `partition` (undefined: none). */
  writtenOffset(step: string, partition: number): number | undefined {
    return this.#written.get(changelogKey(step, partition))?.committedOffset;
  }

  /**
   * Forgets which snapshots it has written (their chunks are written again next time). Exactly-once,
   * after an aborted transaction: what it wrote in it never became visible.
   */
  forgetWrites(): void {
    for (const written of this.#written.values()) written.sha256 = undefined;
  }

  /**
   * Writes every stateful step's snapshot under each partition of `committed` (partition → committed
   * offset). Called at commits on a cadence, on revoke (for the partitions leaving) and at stop. Throws
   * {@link StateTooLargeError} when a snapshot cannot be written within the producer's limits.
   */
  snapshot(committed: ReadonlyMap<number, number>): void {
    if (committed.size === 0) return;
    const startedAt = performance.now();
    let bytes = 0;
    for (const step of this.statefulSteps()) {
      const topic = this.topicOf(step);
      // Serialised and hashed once per step; every partition's chunks hold the same text.
      const text = Buffer.from(JSON.stringify(this.handleFor(step).snapshot()));
      const hash = sha256(text);
      let chunks: Buffer[] | undefined;
      let snapshotId = '';
      const writtenAtMs = Date.now();
      for (const [partition, committedOffset] of committed) {
        const key = changelogKey(step, partition);
        const written = this.#written.get(key) ?? { slot: undefined, snapshotId: undefined, sha256: undefined, chunks: 0, bytes: 0, committedOffset: undefined, present: { a: 0, b: 0 } };
        this.#written.set(key, written);
        const unchanged = written.sha256 === hash && written.slot !== undefined;
        if (unchanged && written.committedOffset === committedOffset) continue; // nothing new to say
        if (!unchanged) {
          if (chunks === undefined) {
            chunks = this.#chunk(step, text, (snapshotId = `${this.#writer}/${++this.#snapshotSeq}`));
          }
          const slot = otherSlot(written.slot);
          for (const [index, value] of chunks.entries()) {
            this.#send(step, topic, chunkKey(step, partition, slot, index), value, text.length);
            bytes += value.length;
          }
          // Chunks of an older, longer snapshot in this slot: released, so compaction bounds the topic.
          for (let index = chunks.length; index < written.present[slot]; index++) this.#send(step, topic, chunkKey(step, partition, slot, index), null, text.length);
          this.stats.chunksWritten += chunks.length;
          Object.assign(written, { slot, snapshotId, sha256: hash, chunks: chunks.length, bytes: text.length });
          written.present[slot] = chunks.length;
        } else this.stats.snapshotsUnchanged++;
        const manifest: SnapshotManifest = {
          format: 2,
          kind: 'manifest',
          step,
          partition,
          committedOffset,
          writer: this.#writer,
          ...(this.options.group === undefined ? {} : { group: this.options.group }),
          ...(this.options.instance === undefined ? {} : { instance: this.options.instance }),
          writtenAtMs,
          slot: written.slot!,
          snapshotId: written.snapshotId!,
          chunks: written.chunks,
          bytes: written.bytes,
          sha256: hash,
        };
        const value = encodeManifest(manifest);
        this.#send(step, topic, key, value, text.length);
        written.committedOffset = committedOffset;
        bytes += value.length;
        this.stats.snapshotsWritten++;
      }
    }
    this.stats.lastSnapshotBytes = bytes;
    this.stats.lastSnapshotMs = performance.now() - startedAt;
  }

  /** Cuts a step's snapshot into chunks, or stops with what to change when it cannot fit. */
  #chunk(step: string, text: Buffer, snapshotId: string): Buffer[] {
    const setting = `the producer's message.max.bytes (SIGNALPATH_KAFKA_MESSAGE_MAX_BYTES, now ${this.messageMaxBytes})`;
    if (this.chunkPayloadBytes < MIN_CHUNK_PAYLOAD_BYTES) {
      const needed = 4 * (MIN_CHUNK_PAYLOAD_BYTES + CHUNK_OVERHEAD_BYTES);
      throw new StateTooLargeError(
        `state of step ${step} (a snapshot of ${text.length} bytes) cannot be written to its changelog: ${setting} leaves chunks of ${Math.max(0, this.chunkPayloadBytes)} bytes, ` +
          `below the ${MIN_CHUNK_PAYLOAD_BYTES} a chunk needs; raise it to at least ${needed}, or run with --state off`,
      );
    }
    if (Math.ceil(text.length / this.chunkPayloadBytes) > MAX_CHUNKS) {
      const needed = Math.ceil((text.length / MAX_CHUNKS + CHUNK_OVERHEAD_BYTES) * 4);
      throw new StateTooLargeError(
        `state of step ${step} (a snapshot of ${text.length} bytes) needs more than ${MAX_CHUNKS} chunks of ${this.chunkPayloadBytes} bytes: ` +
          `raise ${setting} to at least ${needed}, or bound the step's keys`,
      );
    }
    return chunkSnapshot(text, snapshotId, this.chunkPayloadBytes);
  }

  #send(step: string, topic: string, key: string, value: Buffer | null, snapshotBytes: number): void {
    try {
      this.options.write(topic, key, value);
    } catch (error) {
      throw new StateTooLargeError(
        `state of step ${step} (a snapshot of ${snapshotBytes} bytes; record ${key} of ${value?.length ?? 0} bytes) was refused by the Kafka client: ${(error as Error).message}; ` +
          `check message.max.bytes (SIGNALPATH_KAFKA_MESSAGE_MAX_BYTES, now ${this.messageMaxBytes}) and the changelog topic's max.message.bytes, or run with --state off`,
        { cause: error },
      );
    }
  }
}

function describeWriter(entry: ChangelogEntry): string {
  const who = [entry.group === undefined ? null : `group ${entry.group}`, entry.instance === undefined ? null : `instance ${entry.instance}`].filter((x) => x !== null).join(', ');
  return `written by ${entry.writer}${who === '' ? '' : ` (${who})`}`;
}

/**
 * Applies a changelog entry; an operator that refuses it (another operator's snapshot, a version
 * it does not read) fails with where the entry came from, so the message points at the record.
 */
function applyEntry(topic: string, entry: ChangelogEntry, apply: () => void): void {
  try {
    apply();
  } catch (error) {
    throw new Error(`state of step ${entry.step}, partition ${entry.partition} (${topic}, written by ${entry.writer}): ${(error as Error).message}`, { cause: error });
  }
}
