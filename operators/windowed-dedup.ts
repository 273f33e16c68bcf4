/**
 * windowedDedup: turns detections into Mentions — one per cluster per event-time window — emitted
 * when the watermark completes the window; the records merged into a mention settle when it does.
 *
 * ```
 * findings (model m, event time in s, window 10 s):
 *   m/latency/HIGH @1, m/latency/HIGH @3, m/confidence/LOW @4, (watermark passes 10)
 * cluster-aware:  two mentions: latency HIGH (event_count 2), confidence LOW (event_count 1)
 * strict:         one mention for m (event_count 3, attributes.sub_signals = 2)
 * ```
 *
 * Cluster-aware mode (the default) keeps distinct sub-signals apart: a cluster is model × segment ×
 * field × direction, and repeats inside a window merge into `event_count` (distinct event ids) and
 * `evidence_event_ids` (the first `maxEvidenceIds`). Strict mode is the efficiency-tuned baseline:
 * one mention per model per window, reporting how many sub-signals it collapsed. Shadow findings make
 * shadow mentions (`shadow: true`), never merged with live ones.
 *
 * State: stateful per window × cluster: bounded by `maxOpenMentions` (beyond it the mention with the
 * earliest window end is emitted early) and `maxMembersPerMention` (a full mention is emitted early
 * and a new one starts). Distinct event ids are exact up to `exactDistinctLimit` per mention, then a
 * Bloom filter (`bloomFalsePositiveRate`) and a HyperLogLog take over; they are dropped with their
 * window. In-flight mentions are not snapshotted: their records are unsettled, so a restart re-reads
 * them from Kafka and rebuilds them.
 *
 * Snapshot (`state` option, {@link OperatorStateHandle}): `{ operator: 'windowedDedup', version: 2,
 * counters, emitted }` — the step's {@link DedupCounters} and the (cluster, window) pairs emitted and
 * settled downstream whose window the watermark has not reached yet, each tagged with the input
 * partition its records came from (`[partition, clusterId, startMs, endMs]`, see Handover). Version 1
 * snapshots (counters only) still restore. Open mentions
 * (their per-cluster counts, distinct-id sets and evidence) are built only from records whose offsets
 * are still uncommitted: restoring them and then re-reading those records would count every event
 * twice. Nor is the watermark kept: records re-read after a restart include members of mentions that
 * were emitted but not yet acknowledged, and a restored watermark would turn them late and lose
 * those mentions. Mention ids are built from the window, the cluster and the first evidence id, so a
 * mention rebuilt after a restart has the id it had before (downstream can deduplicate on it).
 *
 * Handover (partitions moving between instances, or a restart): an instance that stops drains, and
 * draining emits its open windows as they are; the rest of those windows' records then reach the next
 * owner of their partitions. Restored or merged emitted pairs (of the partitions being taken over
 * only) close their (cluster, window) there: its records settle like late records (`lateRecords`
 * policy) and count in `alreadyEmitted`, exactly as one instance treats a record arriving after it
 * emitted its window, instead of making a second mention. The handle is `mergeable` (a union of
 * pairs: sound however many snapshots are merged), so an instance that already holds state takes the
 * pairs of partitions that come back to it too. A pair enters the set only when its mention has
 * settled (delivered, or dropped or dead-lettered downstream): a mention emitted but not yet
 * acknowledged at a crash is rebuilt from its re-read records, never lost. Mentions emitted early
 * (memory bounds) are not noted: one instance also continues those windows in a new mention. The set
 * is bounded: a pair goes once the watermark reaches its window end (its records are late by then
 * anyway) and beyond `maxEmittedPairs`. Not covered: a record that the previous owner's watermark had
 * already made late reaches the next owner, whose watermark starts afresh (the watermark is not
 * restored, see above), as it did before.
 *
 * Delivery: a record without findings is dropped (settled 'dropped'); a record late for every window
 * goes to `lateRecords` (default 'drop'); a record in k (window, cluster) pairs is split into k parts,
 * each merged into its mention, so the input settles when all its mentions have. Mentions are emitted
 * in window-end order as the watermark advances, and every open mention is emitted when the input
 * completes. Duplicate deliveries of an event (same `event_id`) settle with the mention but do not
 * raise its `event_count`.
 *
 * @example
 * const mentions = detections.pipe(windowedDedup({ window: { kind: 'tumbling', sizeMs: 60_000 } }));
 */
import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { dropRecord, fanOut, type Envelope } from '../core/envelope.js';
import { mergeSettlements, type Settlement } from '../core/settlement.js';
import { assertLateRecordPolicy, OperatorWatermark, routeLateRecord, type LateRecordPolicy } from '../core/event-time/index.js';
import { MentionTable, type DedupWindow, type MentionSourceEvent, type OpenMention } from './windowed-dedup/mention-table.js';
import type { Detection } from './parallel-detect.js';
import type { Direction } from './parallel-detect/types.js';
import { checkFunction, checkInteger, checkNumber, checkOneOf } from './options.js';
import { assertSnapshotVersion, assertStateHandle, type OperatorSnapshot, type OperatorStateHandle } from '../core/state.js';
import { EmittedPairs, parseEmittedPairs } from './windowed-dedup/emitted-pairs.js';
import { createSettlement } from '../core/settlement.js';

export type { DedupWindow } from './windowed-dedup/mention-table.js';

/**
 * What one (window, cluster) comes to when it is emitted, before the topology turns it into its own
 * record with `toOutput` (the field names follow the mentions contract, so a topology whose output
 * has that shape can emit it as it is).
 */
export interface DedupMention {
  /** `<cluster>@<window start>/<first evidence id>`: the same for the same records, replay or not. */
  readonly mention_id: string;
  /** The scheduler's time when emitted. */
  readonly emitted_at: number;
  readonly window_start: number;
  readonly window_end: number;
  readonly model_id: string;
  readonly model_version: string;
  readonly tenant: string;
  readonly segment: string;
  /** The strongest finding's field, direction, detector and score. */
  readonly field: string;
  readonly direction: Direction;
  readonly detector: string;
  readonly score: number;
  readonly cluster_id: string;
  /** Distinct events merged (approximate beyond `exactDistinctLimit`: see attributes). */
  readonly event_count: number;
  readonly evidence_event_ids: string[];
  readonly shadow: boolean;
  /** dedup_mode, window_kind, detectors, sub_signals, and event_count_approximate when it is. */
  readonly attributes: Record<string, string>;
}

export interface WindowedDedupOptions<T extends MentionSourceEvent, O = DedupMention> {
  /** 'cluster-aware' (default) or 'strict' (one mention per model per window). */
  readonly mode?: 'cluster-aware' | 'strict';
  /** Event-time window: tumbling, hopping or session; sizes in ms, integers ≥ 1. Default tumbling 60000 ms. */
  readonly window?: DedupWindow;
  /** Evidence event ids kept per mention, [0, 1000]. Default 10. */
  readonly maxEvidenceIds?: number;
  /** Open mentions held, [1, 1e7]; beyond, the earliest-ending is emitted early. Default 10000. */
  readonly maxOpenMentions?: number;
  /** Records merged into one mention, [1, 1e7]; a full mention is emitted early. Default 100000. */
  readonly maxMembersPerMention?: number;
  /** Exact distinct ids per mention before Bloom + HyperLogLog take over, [0, 1e6]. Default 1000. */
  readonly exactDistinctLimit?: number;
  /** Bloom filter false-positive rate, (0, 0.5]. Default 0.001. */
  readonly bloomFalsePositiveRate?: number;
  /** Ids the Bloom filter is sized for, [1, 1e8]. Default 100000. */
  readonly bloomCapacity?: number;
  /** HyperLogLog registers, a power of two in [16, 65536]. Default 4096 (≈ 1.6% error). */
  readonly hyperLogLogRegisters?: number;
  /** Emit shadow mentions (true) or drop shadow findings (false). Default true. */
  readonly includeShadow?: boolean;
  /** Records whose windows are all closed: 'drop' (default) or a side output that owns them. */
  readonly lateRecords?: LateRecordPolicy<Detection<T>>;
  /** Clock for `emitted_at`. Default asyncScheduler. */
  readonly scheduler?: SchedulerLike;
  /** Snapshot/restore of the counters and emitted pairs (see "Snapshot" and "Handover" above: open mentions are rebuilt by replay). Default: none. */
  readonly state?: OperatorStateHandle;
  /** Emitted (partition, cluster, window) pairs kept for a handover, [0, 1e7]. Default 100000. */
  readonly maxEmittedPairs?: number;
  /** Builds the emitted record from a closed (window, cluster). Default: the {@link DedupMention} itself. */
  readonly toOutput?: (mention: DedupMention) => O;
}

/** Counters of one windowedDedup step. */
export class DedupCounters {
  records = 0;
  recordsWithoutFindings = 0;
  lateRecords = 0;
  mentions = 0;
  /** Mentions emitted before their window closed (memory bounds). */
  earlyMentions = 0;
  /**
   * Records whose (cluster, window) a previous owner of their partition had already emitted (restored
   * or merged state): settled like late records instead of making a second mention.
   */
  alreadyEmitted = 0;
}

const op = 'windowedDedup';

interface Member {
  readonly envelope: Envelope<unknown>;
}

export function windowedDedup<T extends MentionSourceEvent, O = DedupMention>(
  options: WindowedDedupOptions<T, O> = {},
  counters: DedupCounters = new DedupCounters(),
): OperatorFunction<Envelope<Detection<T>>, Envelope<O>> {
  const mode = checkOneOf(op, 'mode', options.mode ?? 'cluster-aware', ['cluster-aware', 'strict'] as const);
  const window = options.window ?? { kind: 'tumbling', sizeMs: 60_000 };
  const kind = checkOneOf(op, 'window.kind', window.kind, ['tumbling', 'hopping', 'session'] as const);
  if (kind === 'session') checkInteger(op, 'window.gapMs', (window as { gapMs: number }).gapMs, 1, 1e12);
  else checkInteger(op, 'window.sizeMs', (window as { sizeMs: number }).sizeMs, 1, 1e12);
  if (window.kind === 'hopping') checkInteger(op, 'window.advanceMs', window.advanceMs, 1, window.sizeMs);
  const maxEvidenceIds = checkInteger(op, 'maxEvidenceIds', options.maxEvidenceIds ?? 10, 0, 1000);
  const maxOpen = checkInteger(op, 'maxOpenMentions', options.maxOpenMentions ?? 10_000, 1, 1e7);
  const maxMembers = checkInteger(op, 'maxMembersPerMention', options.maxMembersPerMention ?? 100_000, 1, 1e7);
  const distinct = {
    exactLimit: checkInteger(op, 'exactDistinctLimit', options.exactDistinctLimit ?? 1000, 0, 1e6),
    bloomFalsePositiveRate: checkNumber(op, 'bloomFalsePositiveRate', options.bloomFalsePositiveRate ?? 0.001, 0, 0.5, true),
    bloomCapacity: checkInteger(op, 'bloomCapacity', options.bloomCapacity ?? 100_000, 1, 1e8),
    hyperLogLogRegisters: checkInteger(op, 'hyperLogLogRegisters', options.hyperLogLogRegisters ?? 4096, 16, 65536),
  };
  if ((distinct.hyperLogLogRegisters & (distinct.hyperLogLogRegisters - 1)) !== 0) {
    throw new RangeError(`${op}: option 'hyperLogLogRegisters' must be a power of two in [16, 65536], got ${distinct.hyperLogLogRegisters}`);
  }
  assertLateRecordPolicy(options.lateRecords, `${op}: option 'lateRecords'`);
  const includeShadow = options.includeShadow ?? true;
  const scheduler = options.scheduler ?? asyncScheduler;
  assertStateHandle(options.state, `${op}: option 'state'`);
  const maxEmittedPairs = checkInteger(op, 'maxEmittedPairs', options.maxEmittedPairs ?? 100_000, 0, 1e7);
  const session = window.kind === 'session';
  checkFunction(op, 'toOutput', options.toOutput, false);
  const toOutput = options.toOutput ?? ((mention: DedupMention) => mention as O);

  return (source) =>
    new Observable<Envelope<O>>((subscriber) => {
      const table = new MentionTable<Member>({ mode, window, maxEvidenceIds, distinct });
      const emitted = new EmittedPairs(maxEmittedPairs);
      const handOver = (snapshot: OperatorSnapshot, partitions: readonly number[] | undefined): void => {
        if (snapshot.version >= 2) emitted.handOver(parseEmittedPairs(op, snapshot['emitted']), partitions);
      };
      options.state?.attach(
        op,
        () => ({ operator: op, version: 2, counters: { ...counters }, emitted: emitted.pairs() }),
        (snapshot, partitions) => {
          assertSnapshotVersion(snapshot, op, [1, 2]);
          const saved = snapshot['counters'] as Partial<Record<keyof DedupCounters, unknown>> | undefined;
          for (const name of ['records', 'recordsWithoutFindings', 'lateRecords', 'mentions', 'earlyMentions'] as const) {
            const value = saved?.[name];
            if (typeof value !== 'number') throw new TypeError(`${op}: restore() needs { counters: { ${name}: number, … } }`);
            counters[name] = value;
          }
          // Version 1 had no alreadyEmitted.
          counters.alreadyEmitted = typeof saved?.alreadyEmitted === 'number' ? saved.alreadyEmitted : 0;
          handOver(snapshot, partitions);
        },
        // Merging: the pairs only (a union); the counters are this instance's own.
        (snapshot, partitions) => {
          assertSnapshotVersion(snapshot, op, [1, 2]);
          handOver(snapshot, partitions);
        },
      );
      const watermark = new OperatorWatermark();

      const emit = (open: OpenMention<Member>, early: boolean): void => {
        counters.mentions++;
        if (early) counters.earlyMentions++;
        const first = open.members[0]!.envelope;
        let eventTimeMs = first.eventTimeMs;
        let watermarkMs = first.watermarkMs;
        const settlements: Settlement[] = [];
        const partitions = new Set<number>();
        for (const { envelope } of open.members) {
          if (envelope.eventTimeMs > eventTimeMs) eventTimeMs = envelope.eventTimeMs;
          if (envelope.watermarkMs > watermarkMs) watermarkMs = envelope.watermarkMs;
          settlements.push(envelope.settlement);
          partitions.add(envelope.origin.partition);
        }
        const members = mergeSettlements(settlements);
        // A window emitted whole (not early) before the watermark reached its end — drained — is noted
        // once its mention has settled downstream; one the watermark closed would be forgotten at once.
        const settlement =
          early || watermark.current >= open.endMs - 1
            ? members
            : createSettlement((outcome) => {
                members.settle(outcome);
                emitted.noteEmitted(partitions, open.clusterId, open.startMs, open.endMs);
              }, `mention ${open.clusterId}@${open.startMs}`);
        const attributes: Record<string, string> = {
          dedup_mode: mode,
          window_kind: window.kind,
          detectors: [...open.detectors].sort().join(','),
          sub_signals: String(open.subSignals.size),
        };
        if (open.distinct.approximate) attributes['event_count_approximate'] = 'true';
        const mention: DedupMention = {
          mention_id: `${open.clusterId}@${open.startMs}/${open.evidence[0] ?? open.members.length}`,
          emitted_at: scheduler.now(),
          window_start: open.startMs,
          window_end: open.endMs,
          model_id: open.model_id,
          model_version: open.model_version,
          tenant: open.tenant,
          segment: open.segment,
          field: open.field,
          direction: open.direction,
          detector: open.detector,
          score: open.score,
          cluster_id: open.clusterId,
          event_count: open.distinct.count(),
          evidence_event_ids: [...open.evidence],
          shadow: open.shadow,
          attributes,
        };
        // mergeInto's semantics, holding only the members' settlements until now.
        subscriber.next({ ...first, value: toOutput(mention), eventTimeMs, watermarkMs, settlement });
      };

      const onRecord = (envelope: Envelope<Detection<T>>): void => {
        counters.records++;
        const { event } = envelope.value;
        const findings = includeShadow ? envelope.value.findings : envelope.value.findings.filter((f) => !f.shadow);
        const before = watermark.current;
        watermark.advance(envelope.watermarkMs);
        if (findings.length === 0) {
          counters.recordsWithoutFindings++;
          dropRecord(envelope);
        } else {
          const memberships: { clusterId: string; window: { startMs: number; endMs: number }; findings: typeof findings }[] = [];
          const clusters = table.clustersOf(event, findings);
          let handedOver = false;
          for (const [clusterId, clusterFindings] of clusters) {
            if (table.isLate(envelope.eventTimeMs, clusterId, before)) continue;
            for (const w of table.windowsFor(envelope.eventTimeMs)) {
              if (window.kind !== 'session' && before >= w.endMs - 1) continue; // that window already closed
              if (emitted.closedByHandover(clusterId, w, envelope.eventTimeMs, session)) {
                handedOver = true; // a previous owner emitted this window
                continue;
              }
              memberships.push({ clusterId, window: w, findings: clusterFindings });
            }
          }
          if (memberships.length === 0) {
            if (handedOver) counters.alreadyEmitted++;
            else counters.lateRecords++;
            routeLateRecord(envelope, options.lateRecords);
          } else {
            const parts = memberships.length === 1 ? [envelope] : fanOut(envelope, memberships.map(() => envelope.value));
            memberships.forEach((m, i) => {
              const closed = table.add(m.clusterId, m.window, {
                member: { envelope: parts[i]! },
                event,
                findings: m.findings,
                eventTimeMs: envelope.eventTimeMs,
              });
              if (closed !== undefined) emit(closed, false);
              const full = table.closeIfFull(m.clusterId, m.window, maxMembers);
              if (full !== undefined) emit(full, true);
            });
            while (table.openCount > maxOpen) emit(table.closeOldest()!, true);
          }
        }
        for (const open of table.closeCompleted(watermark.current)) emit(open, false);
        emitted.prune(watermark.current);
      };

      return source.subscribe({
        next: (envelope) => {
          try {
            onRecord(envelope);
          } catch (err) {
            subscriber.error(err);
          }
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => {
          for (const open of table.closeAll()) emit(open, false);
          subscriber.complete();
        },
      });
    });
}
