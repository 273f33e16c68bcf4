/**
 * Operator state of a running topology, kept in its changelog topics (see changelog.ts).
 *
 * Every step gets an {@link OperatorStateHandle} in its StepContext; a step whose operator attaches
 * to it (passes `state: context.state`) is stateful and gets `<topology>.<step>.changelog`.
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
 */
import { hostname } from 'node:os';
import { OperatorStateHandle } from '../../core/state.js';
import type { TopicSpec } from '../kafka/admin.js';
import { changelogKey, changelogTopic, changelogTopicSpec, readChangelog, type ChangelogEntry, type ReadChangelogResult } from './changelog.js';

export interface StepStatesOptions {
  /** The changelog topics' namespace: the topology name, or the run's `stateNamespace`. */
  readonly topology: string;
  readonly brokers: string;
  readonly clientConfig?: Readonly<Record<string, string | number | boolean>>;
  readonly log: (message: string) => void;
  /** Produces one changelog record (through the topology's producer, so it joins its transactions). */
  readonly write: (topic: string, key: string, value: Buffer) => void;
  /** Reads a changelog topic to its end. Default: {@link readChangelog} from `brokers`; tests without a broker pass their own. */
  readonly read?: (topic: string) => Promise<Pick<ReadChangelogResult, 'entries' | 'recordsRead'>>;
}

export interface StepStatesStats {
  /** Restores done (one per stateful step and assignment). */
  restores: number;
  /** Duration of the latest restore, all steps, ms. */
  lastRestoreMs: number;
  snapshotsWritten: number;
  /** Bytes of the latest snapshot of each step, summed. */
  lastSnapshotBytes: number;
}

/** What a restore applied for one step, for logs and tests. */
export interface RestoredStep {
  readonly step: string;
  readonly from: ChangelogEntry | null;
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

let instances = 0;

export class StepStates {
  readonly stats: StepStatesStats = { restores: 0, lastRestoreMs: 0, snapshotsWritten: 0, lastSnapshotBytes: 0 };
  /** Every restore's outcome, latest last (bounded). */
  readonly restored: RestoredStep[] = [];
  /** Restore outcomes per stateful step, counted over the run. */
  readonly outcomes = new Map<string, StepOutcomeCounts>();
  readonly #handles = new Map<string, OperatorStateHandle>();
  /** Steps whose operator already holds state in this process (restored, or started fresh). */
  readonly #holding = new Set<string>();
  // Host, process and instance: several runners may share a process (tests, the lab).
  readonly #writer = `${hostname()}:${process.pid}#${++instances}`;

  constructor(private readonly options: StepStatesOptions) {}

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
    return this.statefulSteps().map((step) => changelogTopicSpec(changelogTopic(this.options.topology, step)));
  }

  /** Restores state for newly assigned partitions (see the file comment for the rule); logs the time. */
  async restore(partitions: readonly number[]): Promise<RestoredStep[]> {
    const startedAt = performance.now();
    const results: RestoredStep[] = [];
    let recordsRead = 0;
    for (const step of this.statefulSteps()) {
      const topic = changelogTopic(this.options.topology, step);
      const read = await (this.options.read?.(topic) ?? readChangelog(this.options.brokers, topic, this.options.clientConfig, this.options.log));
      recordsRead += read.recordsRead;
      let newest: ChangelogEntry | null = null;
      const found: ChangelogEntry[] = [];
      for (const partition of partitions) {
        const entry = read.entries.get(changelogKey(step, partition));
        if (entry === undefined) continue;
        found.push(entry);
        if (newest === null || entry.writtenAtMs > newest.writtenAtMs) newest = entry;
      }
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
      results.push({ step, from: newest, action, merged });
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
        .map(({ step, from, action, merged }) => {
          const mergedNote = merged > 0 ? ` (+ ${merged} partition snapshot${merged === 1 ? '' : 's'} merged)` : '';
          if (action === 'restored') return `${step} from ${from!.writer} (partition ${from!.partition} at committed offset ${from!.committedOffset})${mergedNote}`;
          return `${step}: ${action}${mergedNote}`;
        })
        .join('; ');
      this.options.log(`state restore for partitions [${partitions.join(', ')}] took ${elapsedMs.toFixed(0)} ms (${recordsRead} changelog records read): ${what}`);
    }
    return results;
  }

  /**
   * Writes every stateful step's snapshot under each partition of `committed` (partition → committed
   * offset). Called at commits on a cadence, on revoke (for the partitions leaving) and at stop.
   */
  snapshot(committed: ReadonlyMap<number, number>): void {
    if (committed.size === 0) return;
    let bytes = 0;
    for (const step of this.statefulSteps()) {
      const topic = changelogTopic(this.options.topology, step);
      // Serialised once per step; each partition's entry wraps the same text.
      const snapshotJson = JSON.stringify(this.handleFor(step).snapshot());
      const writtenAtMs = Date.now();
      for (const [partition, committedOffset] of committed) {
        const head = JSON.stringify({ format: 1, step, partition, committedOffset, writer: this.#writer, writtenAtMs });
        const value = Buffer.from(`${head.slice(0, -1)},"snapshot":${snapshotJson}}`);
        this.options.write(topic, changelogKey(step, partition), value);
        bytes += value.length;
        this.stats.snapshotsWritten++;
      }
    }
    this.stats.lastSnapshotBytes = bytes;
  }
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
