/**
 * Labels meet their mentions: model-monitor remembers each mention it emits until a label with the
 * same `mention_id` arrives, then hands the pair to the recalibration (recalibration.ts). Plain class,
 * no RxJS; the topology's `label-join` step feeds mentions in and keeps its snapshot in the step's
 * changelog, the runtime's label follower feeds labels in (topic `labels`, read from its beginning).
 *
 * - **Awaiting** (keyed state, by mention id): at most `maxAwaiting` mentions wait for a label; beyond
 *   that the oldest is dropped (counted `awaitingEvicted`). A mention emitted again (the source
 *   re-reads records after a restart; its id is the same) is counted `reemitted` and changes nothing.
 * - **Idempotent by mention id**: the first TRUE_POSITIVE or FALSE_POSITIVE label of a mention is
 *   applied, and its id is remembered (`maxApplied`, oldest forgotten first); a later label of that
 *   mention is a `duplicate` (the same verdict: a redelivery, or the follower reading the topic again
 *   after a restart) or a `relabel` (another verdict), counted and not applied: a level never moves
 *   twice for one mention.
 * - **UNSURE** labels are counted and ignored; the mention keeps waiting for a verdict.
 * - **A label before its mention** (the follower and the stream run independently, and after a
 *   restart the follower starts before the source re-reads) is held, bounded by `maxEarly` (oldest
 *   dropped, counted `earlyEvicted`), and applied when the mention arrives (`earlyJoined`); another
 *   label of a held mention is a duplicate or relabel, as for an applied one. Held labels
 *   are not in the snapshot: the follower reads the labels topic again from its beginning after a
 *   restart. A label whose mention this process never emits (another instance's, or one older than what
 *   it remembers) stays held until it is pushed out.
 * - Mentions that no sketch alarm made (a sampled detector's only) wait too; their labels are counted
 *   `notRecalibrated` (the sketch's levels are all the recalibration moves).
 * - **Per lane** (the feedback loop's KPIs): a mention is on the fast lane once the review lane copied
 *   it (`fastLane`), else on the slow one; its first decided label gives the lane's feedback latency
 *   (emitted → label received, by the injected clock; a mention restored from a snapshot keeps its
 *   emission time) and counts for the lane's labelled precision.
 */
import { BucketHistogram } from '../../runtime/telemetry/bucket-histogram.js';
import { FEEDBACK_BOUNDS_MS } from '../../runtime/telemetry/label-feedback.js';

/** The review lane's copies (`mentions.review`) are the fast lane; every other mention the slow one. */
export type FeedbackLane = 'fast' | 'slow';

/** One lane's labels: feedback latency and labelled precision. */
export class LaneFeedback {
  readonly latency = new BucketHistogram(FEEDBACK_BOUNDS_MS);
  truePositives = 0;
  falsePositives = 0;

  /** TP / (TP + FP); null before any. */
  precision(): number | null {
    const labelled = this.truePositives + this.falsePositives;
    return labelled === 0 ? null : this.truePositives / labelled;
  }
}
export type LabelVerdict = 'TRUE_POSITIVE' | 'FALSE_POSITIVE' | 'UNSURE';
type Decided = Exclude<LabelVerdict, 'UNSURE'>;

/** What a label moves: the mention's model and field, and whether a sketch alarm made it. */
export interface AwaitedMention {
  readonly model: string;
  readonly field: string;
  readonly sketch: boolean;
}

export interface LabelJoinOptions {
  /** Mentions waiting for a label, ≥ 1. */
  readonly maxAwaiting: number;
  /** Applied mention ids remembered for idempotence, ≥ 1. */
  readonly maxApplied: number;
  /** Labels held until their mention arrives, ≥ 0. */
  readonly maxEarly: number;
  /** Called once per mention with its first true- or false-positive label. */
  readonly apply: (mention: AwaitedMention, truePositive: boolean) => void;
  /** Wall-clock time of a mention's emission, ms (as the label's receive time is). Default Date.now. */
  readonly now?: () => number;
}

interface Waiting {
  readonly mention: AwaitedMention;
  readonly emittedAtMs: number;
  fast: boolean;
}

export interface LabelJoinCounts {
  /** Mentions registered (first emission). */
  mentions: number;
  reemitted: number;
  awaitingEvicted: number;
  /** Labels applied, by verdict (sketch mentions only). */
  truePositives: number;
  falsePositives: number;
  unsure: number;
  duplicates: number;
  relabels: number;
  notRecalibrated: number;
  /** Labels that came before their mention: held, then joined, or pushed out. */
  early: number;
  earlyJoined: number;
  earlyEvicted: number;
}

/** What one label did. */
export type LabelOutcome = 'applied' | 'not-recalibrated' | 'unsure' | 'duplicate' | 'relabel' | 'early';

export class LabelJoin {
  readonly counts: LabelJoinCounts = { mentions: 0, reemitted: 0, awaitingEvicted: 0, truePositives: 0, falsePositives: 0, unsure: 0, duplicates: 0, relabels: 0, notRecalibrated: 0, early: 0, earlyJoined: 0, earlyEvicted: 0 };
  readonly #options: LabelJoinOptions;
  /** mention id → what its label moves, oldest first. */
  readonly #awaiting = new Map<string, Waiting>();
  /** mention id → the verdict applied, oldest first. */
  readonly #applied = new Map<string, LabelVerdict>();
  /** mention id → a label that came first, oldest first (not in snapshots). */
  readonly #early = new Map<string, { verdict: Decided; receivedAtMs: number }>();
  readonly #now: () => number;
  /** Feedback latency and labelled precision per lane (every mention, sketch or not). */
  readonly lanes: Readonly<Record<FeedbackLane, LaneFeedback>> = { fast: new LaneFeedback(), slow: new LaneFeedback() };

  constructor(options: LabelJoinOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Mentions waiting for a label now. */
  get awaiting(): number {
    return this.#awaiting.size;
  }

  /** Labels held for a mention not seen yet. */
  get held(): number {
    return this.#early.size;
  }

  /** A mention was emitted. */
  mention(id: string, mention: AwaitedMention): void {
    if (this.#awaiting.has(id) || this.#applied.has(id)) {
      this.counts.reemitted++;
      return;
    }
    this.counts.mentions++;
    const waiting: Waiting = { mention, emittedAtMs: this.#now(), fast: false };
    const early = this.#early.get(id);
    if (early !== undefined) {
      this.#early.delete(id);
      this.counts.earlyJoined++;
      this.#apply(id, waiting, early.verdict, early.receivedAtMs);
      return;
    }
    if (this.#awaiting.size >= this.#options.maxAwaiting) {
      this.#awaiting.delete(this.#awaiting.keys().next().value!);
      this.counts.awaitingEvicted++;
    }
    this.#awaiting.set(id, waiting);
  }

  /** The review lane copied this mention to the fast lane. */
  fastLane(id: string): void {
    const waiting = this.#awaiting.get(id);
    if (waiting !== undefined) waiting.fast = true;
  }

  /** A label arrived (`receivedAtMs`: when, by the clock of `now`). */
  label(id: string, verdict: LabelVerdict, receivedAtMs = this.#now()): LabelOutcome {
    const applied = this.#applied.get(id);
    if (applied !== undefined) {
      if (verdict === applied) this.counts.duplicates++;
      else this.counts.relabels++;
      return verdict === applied ? 'duplicate' : 'relabel';
    }
    if (verdict === 'UNSURE') {
      this.counts.unsure++;
      return 'unsure';
    }
    const waiting = this.#awaiting.get(id);
    if (waiting === undefined) {
      // Held already: the first verdict stays, as for an applied one.
      const held = this.#early.get(id);
      if (held !== undefined) {
        if (held.verdict === verdict) this.counts.duplicates++;
        else this.counts.relabels++;
        return held.verdict === verdict ? 'duplicate' : 'relabel';
      }
      if (this.#options.maxEarly === 0) return 'early';
      this.counts.early++;
      this.#early.set(id, { verdict, receivedAtMs });
      if (this.#early.size > this.#options.maxEarly) {
        this.#early.delete(this.#early.keys().next().value!);
        this.counts.earlyEvicted++;
      }
      return 'early';
    }
    this.#awaiting.delete(id);
    return this.#apply(id, waiting, verdict, receivedAtMs);
  }

  #apply(id: string, waiting: Waiting, verdict: Decided, receivedAtMs: number): LabelOutcome {
    const { mention } = waiting;
    this.#applied.set(id, verdict);
    if (this.#applied.size > this.#options.maxApplied) this.#applied.delete(this.#applied.keys().next().value!);
    const lane = this.lanes[waiting.fast ? 'fast' : 'slow'];
    lane.latency.observe(Math.max(0, receivedAtMs - waiting.emittedAtMs));
    if (verdict === 'TRUE_POSITIVE') lane.truePositives++;
    else lane.falsePositives++;
    if (!mention.sketch) {
      this.counts.notRecalibrated++;
      return 'not-recalibrated';
    }
    if (verdict === 'TRUE_POSITIVE') this.counts.truePositives++;
    else this.counts.falsePositives++;
    this.#options.apply(mention, verdict === 'TRUE_POSITIVE');
    return 'applied';
  }

  /** Plain JSON: the awaiting mentions, the applied ids and the counters (held labels are not in it). */
  snapshot(): Record<string, unknown> {
    return {
      awaiting: [...this.#awaiting].map(([id, w]) => [id, w.mention.model, w.mention.field, w.mention.sketch ? 1 : 0, w.emittedAtMs, w.fast ? 1 : 0]),
      applied: [...this.#applied].map(([id, verdict]) => [id, verdict === 'TRUE_POSITIVE' ? 1 : 0]),
      counts: { ...this.counts },
    };
  }

  /**
   * Replaces the awaiting mentions, applied ids and counters with a snapshot's (plus the labels it
   * counted before without holding them: UNSURE, copies of a held label); labels held in this process (they came before the restore) are then joined
   * against the restored mentions.
   */
  restore(snapshot: Readonly<Record<string, unknown>>): void {
    const awaiting = snapshot['awaiting'];
    const applied = snapshot['applied'];
    const counts = snapshot['counts'];
    if (!Array.isArray(awaiting) || !Array.isArray(applied) || typeof counts !== 'object' || counts === null) {
      throw new TypeError('labelJoin: restore() needs { awaiting, applied, counts }');
    }
    this.#awaiting.clear();
    this.#applied.clear();
    for (const [id, model, field, sketch, emittedAtMs, fast] of awaiting as [string, string, string, number, number?, number?][]) {
      this.#awaiting.set(id, { mention: { model, field, sketch: sketch === 1 }, emittedAtMs: emittedAtMs ?? this.#now(), fast: fast === 1 });
    }
    for (const [id, tp] of applied as [string, number][]) this.#applied.set(id, tp === 1 ? 'TRUE_POSITIVE' : 'FALSE_POSITIVE');
    // Labels decided before the restore (UNSURE, copies of a held label) were counted, not held: keep their counts.
    const before = { unsure: this.counts.unsure, duplicates: this.counts.duplicates, relabels: this.counts.relabels };
    Object.assign(this.counts, counts);
    this.counts.unsure += before.unsure;
    this.counts.duplicates += before.duplicates;
    this.counts.relabels += before.relabels;
    const held = [...this.#early];
    this.#early.clear();
    for (const [id, { verdict, receivedAtMs }] of held) {
      const outcome = this.label(id, verdict, receivedAtMs);
      if (outcome === 'applied' || outcome === 'not-recalibrated') this.counts.earlyJoined++;
    }
  }
}
