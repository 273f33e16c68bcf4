/**
 * The open mentions of `windowedDedup`, without RxJS: one accumulator per (window, cluster), where a
 * cluster is model × segment × field × direction (cluster-aware mode) or the model alone (strict
 * mode), shadow findings always apart from live ones.
 *
 * Windows are event-time tumbling, hopping or session windows. Tumbling and hopping accumulators close
 * when the watermark completes their window; a session accumulator (per cluster) closes when the
 * watermark passes its last event time plus the gap, or when an event of its cluster arrives more than
 * a gap after its last one (events are assumed to reach a session roughly in event-time order: two
 * sessions that a late event would bridge are not merged).
 */
import type { Direction, Finding } from '../parallel-detect/types.js';
import { DistinctCounter, type DistinctCounterOptions } from './distinct-counter.js';

export type DedupWindow =
  | { readonly kind: 'tumbling'; readonly sizeMs: number }
  | { readonly kind: 'hopping'; readonly sizeMs: number; readonly advanceMs: number }
  | { readonly kind: 'session'; readonly gapMs: number };

/** What a cluster needs from an event. */
export interface MentionSourceEvent {
  readonly event_id: string;
  readonly model_id: string;
  readonly model_version?: string;
  readonly tenant?: string;
  readonly segment?: string;
}

export interface ClusterMember<M> {
  /** Whatever the shell keeps per member (its settlement part). */
  readonly member: M;
  readonly event: MentionSourceEvent;
  readonly findings: readonly Finding[];
  readonly eventTimeMs: number;
}

/** One open (window, cluster) accumulator. */
export interface OpenMention<M> {
  readonly clusterId: string;
  startMs: number;
  endMs: number;
  readonly model_id: string;
  readonly model_version: string;
  readonly tenant: string;
  readonly segment: string;
  field: string;
  direction: Direction;
  detector: string;
  score: number;
  readonly shadow: boolean;
  readonly distinct: DistinctCounter;
  readonly evidence: string[];
  readonly members: M[];
  readonly detectors: Set<string>;
  /** Distinct field × direction sub-signals seen (strict mode reports how many it collapsed). */
  readonly subSignals: Set<string>;
  /** Last event time (session windows). */
  lastEventMs: number;
}

export interface MentionTableOptions {
  readonly mode: 'cluster-aware' | 'strict';
  readonly window: DedupWindow;
  readonly maxEvidenceIds: number;
  readonly distinct: DistinctCounterOptions;
}

const sep = '|';

export class MentionTable<M> {
  readonly #o: MentionTableOptions;
  readonly #open = new Map<string, OpenMention<M>>();

  constructor(options: MentionTableOptions) {
    this.#o = options;
  }

  get openCount(): number {
    return this.#open.size;
  }

  /** The windows an event time falls in (sessions: a provisional [t, t + gap)). */
  windowsFor(eventTimeMs: number): { startMs: number; endMs: number }[] {
    const w = this.#o.window;
    if (w.kind === 'session') return [{ startMs: eventTimeMs, endMs: eventTimeMs + w.gapMs }];
    const step = w.kind === 'tumbling' ? w.sizeMs : w.advanceMs;
    const last = eventTimeMs - (((eventTimeMs % step) + step) % step);
    const out: { startMs: number; endMs: number }[] = [];
    for (let start = last; start > eventTimeMs - w.sizeMs; start -= step) out.unshift({ startMs: start, endMs: start + w.sizeMs });
    return out;
  }

  /** The clusters of one record's findings: one per distinct cluster id, with its strongest finding. */
  clustersOf(event: MentionSourceEvent, findings: readonly Finding[]): Map<string, Finding[]> {
    const clusters = new Map<string, Finding[]>();
    for (const f of findings) {
      const base = this.#o.mode === 'strict' ? event.model_id : [event.model_id, event.segment ?? '', f.field, f.direction].join(sep);
      const id = f.shadow ? `${base}${sep}shadow` : base;
      const list = clusters.get(id);
      if (list === undefined) clusters.set(id, [f]);
      else list.push(f);
    }
    return clusters;
  }

  /** True when a record at `eventTimeMs` of cluster `clusterId` can only go to closed windows. */
  isLate(eventTimeMs: number, clusterId: string, watermarkMs: number): boolean {
    if (eventTimeMs > watermarkMs) return false;
    const w = this.#o.window;
    if (w.kind === 'session') {
      const open = this.#open.get(clusterId);
      return !(open !== undefined && eventTimeMs >= open.startMs && eventTimeMs < open.lastEventMs + w.gapMs);
    }
    return this.windowsFor(eventTimeMs).every((win) => watermarkMs >= win.endMs - 1);
  }

  /**
   * Adds one membership (one record in one window of one cluster). Returns a mention that had to
   * close first (a session whose gap was exceeded), if any.
   */
  add(clusterId: string, window: { startMs: number; endMs: number }, m: ClusterMember<M>): OpenMention<M> | undefined {
    const session = this.#o.window.kind === 'session' ? this.#o.window : null;
    const key = session ? clusterId : `${window.startMs}${sep}${clusterId}`;
    let open = this.#open.get(key);
    let closed: OpenMention<M> | undefined;
    if (open !== undefined && session && m.eventTimeMs >= open.lastEventMs + session.gapMs) {
      closed = open;
      this.#open.delete(key);
      open = undefined;
    }
    const best = m.findings.reduce((a, b) => (b.score > a.score ? b : a));
    if (open === undefined) {
      open = {
        clusterId,
        startMs: window.startMs,
        endMs: window.endMs,
        model_id: m.event.model_id,
        model_version: m.event.model_version ?? '',
        tenant: m.event.tenant ?? '',
        segment: m.event.segment ?? '',
        field: best.field,
        direction: best.direction,
        detector: best.detector,
        score: best.score,
        shadow: best.shadow,
        distinct: new DistinctCounter(this.#o.distinct),
        evidence: [],
        members: [],
        detectors: new Set(),
        subSignals: new Set(),
        lastEventMs: m.eventTimeMs,
      };
      this.#open.set(key, open);
    }
    if (best.score > open.score) {
      open.score = best.score;
      open.field = best.field;
      open.direction = best.direction;
      open.detector = best.detector;
    }
    for (const f of m.findings) {
      open.detectors.add(f.detector);
      open.subSignals.add(`${f.field}${sep}${f.direction}`);
    }
    if (session) {
      open.startMs = Math.min(open.startMs, m.eventTimeMs);
      open.lastEventMs = Math.max(open.lastEventMs, m.eventTimeMs);
      open.endMs = open.lastEventMs + session.gapMs;
    }
    if (open.distinct.add(m.event.event_id) && open.evidence.length < this.#o.maxEvidenceIds) open.evidence.push(m.event.event_id);
    open.members.push(m.member);
    return closed;
  }

  /** Removes and returns every mention whose window the watermark has completed, oldest first. */
  closeCompleted(watermarkMs: number): OpenMention<M>[] {
    const out: OpenMention<M>[] = [];
    for (const [key, open] of this.#open) {
      if (watermarkMs >= open.endMs - 1) {
        out.push(open);
        this.#open.delete(key);
      }
    }
    return out.sort((a, b) => a.endMs - b.endMs || (a.clusterId < b.clusterId ? -1 : 1));
  }

  /** Removes and returns the open mention with the earliest window end (memory bound), if any. */
  closeOldest(): OpenMention<M> | undefined {
    let oldestKey: string | undefined;
    let oldest: OpenMention<M> | undefined;
    for (const [key, open] of this.#open) {
      if (oldest === undefined || open.endMs < oldest.endMs) {
        oldest = open;
        oldestKey = key;
      }
    }
    if (oldestKey !== undefined) this.#open.delete(oldestKey);
    return oldest;
  }

  /** Removes and returns the open mention of `clusterId` in `window` if it holds `limit` members. */
  closeIfFull(clusterId: string, window: { startMs: number }, limit: number): OpenMention<M> | undefined {
    const key = this.#o.window.kind === 'session' ? clusterId : `${window.startMs}${sep}${clusterId}`;
    const open = this.#open.get(key);
    if (open === undefined || open.members.length < limit) return undefined;
    this.#open.delete(key);
    return open;
  }

  /** Removes and returns everything (end of stream). */
  closeAll(): OpenMention<M>[] {
    const out = [...this.#open.values()].sort((a, b) => a.endMs - b.endMs || (a.clusterId < b.clusterId ? -1 : 1));
    this.#open.clear();
    return out;
  }
}
