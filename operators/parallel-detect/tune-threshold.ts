/**
 * Threshold tuning by F-beta: one sweep over the scores sorted high to low.
 *
 * A precision-tuned detector (β < 1, or a threshold picked for 99% precision) misses most real
 * anomalies; with sampling and enrichment upstream the system can afford β > 1 (recall weighs β times
 * as much as precision). Weights are inclusion weights (1 / inclusion probability) when the labelled
 * data was sampled, so the counts estimate the unsampled stream's.
 */

/** Precision tiers at which recall is reported. */
export const precisionTiers = [0.9, 0.95, 0.975, 0.99] as const;

export interface RecallAtPrecision {
  readonly precision: number;
  /** Highest recall whose precision is at least the tier, and its threshold; null if no threshold reaches the tier. */
  readonly recall: number | null;
  readonly threshold: number | null;
}

export interface ThresholdTuning {
  /** Flag a point when its score is ≥ threshold. Infinity when there are no positives. */
  readonly threshold: number;
  readonly fBeta: number;
  readonly precision: number;
  readonly recall: number;
  readonly beta: number;
  readonly recallAtPrecision: readonly RecallAtPrecision[];
}

/**
 * Picks the threshold that maximises F-beta over `scores` with ground truth `labels`; O(n log n).
 * Ties in score are one decision (a threshold cannot split them).
 */
export function tuneThreshold(
  scores: readonly number[],
  labels: readonly boolean[],
  beta = 1,
  weights?: readonly number[],
): ThresholdTuning {
  if (scores.length !== labels.length) throw new RangeError(`tuneThreshold: ${scores.length} scores but ${labels.length} labels`);
  if (weights !== undefined && weights.length !== scores.length) {
    throw new RangeError(`tuneThreshold: ${scores.length} scores but ${weights.length} weights`);
  }
  if (!(beta > 0) || !Number.isFinite(beta)) throw new RangeError(`tuneThreshold: beta must be a finite number > 0, got ${beta}`);
  const weightOf = (i: number): number => {
    const w = weights?.[i] ?? 1;
    if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`tuneThreshold: weights[${i}] must be finite and ≥ 0, got ${w}`);
    return w;
  };
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]) positives += weightOf(i);
  const order = scores.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const b2 = beta * beta;
  let best = { threshold: Infinity, fBeta: 0, precision: 1, recall: 0 };
  const tiers = precisionTiers.map((precision) => ({ precision, recall: null as number | null, threshold: null as number | null }));
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    if (labels[i]) tp += weightOf(i);
    else fp += weightOf(i);
    const next = order[k + 1];
    if (next !== undefined && scores[next] === scores[i]) continue;
    const precision = tp + fp > 0 ? tp / (tp + fp) : 1;
    const recall = positives > 0 ? tp / positives : 0;
    const denominator = b2 * precision + recall;
    const fBeta = denominator > 0 ? ((1 + b2) * precision * recall) / denominator : 0;
    if (fBeta > best.fBeta) best = { threshold: scores[i]!, fBeta, precision, recall };
    for (const tier of tiers) {
      if (precision >= tier.precision && (tier.recall === null || recall > tier.recall)) {
        tier.recall = recall;
        tier.threshold = scores[i]!;
      }
    }
  }
  return { ...best, beta, recallAtPrecision: tiers };
}
