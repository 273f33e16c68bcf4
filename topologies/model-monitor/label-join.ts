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
 *   dropped, counted `earlyEvicted`), and applied when the mention arrives (`earlyJoined`). Held labels
 *   are not in the snapshot: the follower reads the labels topic again from its beginning after a
 *   restart. A label whose mention this process never emits (another instance's, or one older than what
 *   it remembers) stays held until it is pushed out.
 * - Mentions that no sketch alarm made (a sampled detector's only) wait too; their labels are counted
 *   `notRecalibrated` (the sketch's levels are all the recalibration moves).
 */
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
  readonly #awaiting = new Map<string, AwaitedMention>();
  /** mention id → the verdict applied, oldest first. */
  readonly #applied = new Map<string, LabelVerdict>();
  /** mention id → a label that came first, oldest first (not in snapshots). */
  readonly #early = new Map<string, Decided>();

  constructor(options: LabelJoinOptions) {
    this.#options = options;
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
    const early = this.#early.get(id);
    if (early !== undefined) {
      this.#early.delete(id);
      this.counts.earlyJoined++;
      this.#apply(id, mention, early);
      return;
    }
    if (this.#awaiting.size >= this.#options.maxAwaiting) {
      this.#awaiting.delete(this.#awaiting.keys().next().value!);
      this.counts.awaitingEvicted++;
    }
    this.#awaiting.set(id, mention);
  }

  /** A label arrived. */
  label(id: string, verdict: LabelVerdict): LabelOutcome {
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
    const mention = this.#awaiting.get(id);
    if (mention === undefined) {
      if (this.#options.maxEarly === 0) return 'early';
      if (!this.#early.has(id)) this.counts.early++;
      this.#early.delete(id);
      this.#early.set(id, verdict);
      if (this.#early.size > this.#options.maxEarly) {
        this.#early.delete(this.#early.keys().next().value!);
        this.counts.earlyEvicted++;
      }
      return 'early';
    }
    this.#awaiting.delete(id);
    return this.#apply(id, mention, verdict);
  }

  #apply(id: string, mention: AwaitedMention, verdict: Decided): LabelOutcome {
    this.#applied.set(id, verdict);
    if (this.#applied.size > this.#options.maxApplied) this.#applied.delete(this.#applied.keys().next().value!);
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
      awaiting: [...this.#awaiting].map(([id, m]) => [id, m.model, m.field, m.sketch ? 1 : 0]),
      applied: [...this.#applied].map(([id, verdict]) => [id, verdict === 'TRUE_POSITIVE' ? 1 : 0]),
      counts: { ...this.counts },
    };
  }

  /**
   * Replaces the awaiting mentions, applied ids and counters with a snapshot's; labels held in this
   * process (they came before the restore) are then joined against the restored mentions.
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
    for (const [id, model, field, sketch] of awaiting as [string, string, string, number][]) this.#awaiting.set(id, { model, field, sketch: sketch === 1 });
    for (const [id, tp] of applied as [string, number][]) this.#applied.set(id, tp === 1 ? 'TRUE_POSITIVE' : 'FALSE_POSITIVE');
    Object.assign(this.counts, counts);
    const held = [...this.#early];
    this.#early.clear();
    for (const [id, verdict] of held) {
      const outcome = this.label(id, verdict);
      if (outcome === 'applied' || outcome === 'not-recalibrated') this.counts.earlyJoined++;
    }
  }
}
