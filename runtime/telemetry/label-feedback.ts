/**
 * The feedback loop's KPIs from labels (the `labels` topic, Label contract): precision of the
 * labelled mentions, recall at precision tiers, and feedback-loop latency (mention emitted → label
 * received by this process).
 *
 * Recall here is relative to what labellers confirmed: of the labelled true positives, the largest
 * share a score cut-off keeps while the mentions above it stay at least that precise. It is the
 * recall/precision curve of the labelled sample — the study's "recall at precision" — and needs no
 * ground truth beyond the labels. Memory is bounded: the latest `maxMentions` emitted mentions
 * (id → score, time) and the latest `maxLabelled` labelled ones.
 */
import { LRUCache } from 'lru-cache';
import { BucketHistogram } from './bucket-histogram.js';

export type Verdict = 'TRUE_POSITIVE' | 'FALSE_POSITIVE' | 'UNSURE';

/** Precision tiers reported by default. */
export const PRECISION_TIERS: readonly number[] = [0.5, 0.8, 0.9, 0.95];

/** Feedback latency buckets, ms: a second to a week (people label in minutes to days). */
export const FEEDBACK_BOUNDS_MS: readonly number[] = [1_000, 5_000, 15_000, 60_000, 300_000, 900_000, 3_600_000, 14_400_000, 86_400_000, 604_800_000];

export interface LabelFeedbackOptions {
  /** Emitted mentions remembered for matching labels. Default 100 000. */
  readonly maxMentions?: number;
  /** Labelled mentions kept for the recall/precision curve. Default 100 000. */
  readonly maxLabelled?: number;
}

export interface RecallAtPrecision {
  readonly precision: number;
  /** Null while no labelled mention is a true positive. */
  readonly recall: number | null;
}

/** Recall at each precision tier over labelled (score, is-true-positive) pairs; see the file comment. */
export function recallAtPrecision(labelled: readonly { readonly score: number; readonly truePositive: boolean }[], tiers: readonly number[] = PRECISION_TIERS): RecallAtPrecision[] {
  const positives = labelled.reduce((n, l) => n + (l.truePositive ? 1 : 0), 0);
  if (positives === 0) return tiers.map((precision) => ({ precision, recall: null }));
  const sorted = [...labelled].sort((a, b) => b.score - a.score);
  const best = tiers.map(() => 0);
  let tp = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (sorted[i]!.truePositive) tp++;
    // A cut-off keeps every mention with the same score: evaluate only after the last of a tie.
    if (i + 1 < sorted.length && sorted[i + 1]!.score === sorted[i]!.score) continue;
    const precision = tp / (i + 1);
    const recall = tp / positives;
    tiers.forEach((tier, t) => {
      if (precision >= tier && recall > best[t]!) best[t] = recall;
    });
  }
  return tiers.map((precision, t) => ({ precision, recall: best[t]! }));
}

export class LabelFeedback {
  readonly latency = new BucketHistogram(FEEDBACK_BOUNDS_MS);
  readonly verdicts: Record<Verdict | 'unmatched', number> = { TRUE_POSITIVE: 0, FALSE_POSITIVE: 0, UNSURE: 0, unmatched: 0 };
  readonly #emitted: LRUCache<string, { score: number; emittedAtMs: number }>;
  /** mention id → its latest verdict and score, insertion-ordered (oldest evicted first). */
  readonly #labelled = new Map<string, { score: number; truePositive: boolean }>();
  readonly #maxLabelled: number;

  constructor(options: LabelFeedbackOptions = {}) {
    this.#emitted = new LRUCache({ max: options.maxMentions ?? 100_000 });
    this.#maxLabelled = options.maxLabelled ?? 100_000;
  }

  mentionEmitted(id: string, score: number, atMs: number): void {
    this.#emitted.set(id, { score, emittedAtMs: atMs });
  }

  /** A label arrived; returns false when its mention is not (or no longer) known here. */
  labelReceived(mentionId: string, verdict: Verdict, atMs: number): boolean {
    const mention = this.#emitted.get(mentionId);
    if (mention === undefined) {
      this.verdicts.unmatched++;
      return false;
    }
    this.verdicts[verdict]++;
    const relabel = this.#labelled.has(mentionId);
    // The loop closes at the first label: a relabel changes the verdict, not the latency.
    if (!relabel) this.latency.observe(Math.max(0, atMs - mention.emittedAtMs));
    this.#labelled.delete(mentionId);
    if (verdict !== 'UNSURE') {
      this.#labelled.set(mentionId, { score: mention.score, truePositive: verdict === 'TRUE_POSITIVE' });
      if (this.#labelled.size > this.#maxLabelled) this.#labelled.delete(this.#labelled.keys().next().value!);
    }
    return true;
  }

  /** Share of labelled (true or false positive) mentions that are true; null before any. */
  precision(): number | null {
    let tp = 0;
    for (const l of this.#labelled.values()) if (l.truePositive) tp++;
    return this.#labelled.size === 0 ? null : tp / this.#labelled.size;
  }

  recallAtPrecision(tiers: readonly number[] = PRECISION_TIERS): RecallAtPrecision[] {
    return recallAtPrecision([...this.#labelled.values()], tiers);
  }
}
