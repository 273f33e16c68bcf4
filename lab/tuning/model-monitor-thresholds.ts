/**
 * Derives model-monitor's detector thresholds (topologies/model-monitor/thresholds.ts says how the
 * topology uses them) with operators/parallel-detect/tune-threshold.ts, on labelled data that is *not*
 * any stream we evaluate on: a generator run with its own seed ({@link TUNING_STREAM}), every event
 * scored by a fresh per-key × field detector; a point is positive when an incident covers its model,
 * segment, field and event time. `npx tsx scripts/tune-model-monitor-thresholds.ts` runs it and
 * rewrites topologies/model-monitor/tuned-thresholds.json.
 *
 * - `precision`: the threshold of the highest precision tier of tune-threshold (≤ 99%) that labelled
 *   data reaches, else the threshold of highest precision that keeps 10% recall;
 * - `f-beta`: the threshold that maximises F-beta with β = 2.
 */
import { createDetector, inferenceFieldValue, tuneThreshold } from '../../operators/parallel-detect/index.js';
import type { TunedThreshold } from '../../topologies/model-monitor/thresholds.js';
import { generateStream, type StreamOptions } from '../generator/index.js';

/** β of the F-beta tuning. */
export const F_BETA = 2;
/** Precision the `precision` tuning asks for. */
export const TARGET_PRECISION = 0.99;
/** Recall the `precision` tuning keeps at least, when no precision tier is reachable. */
export const MIN_RECALL = 0.1;
/** The labelled stream the thresholds are tuned on: seed 1001 (never used for evaluation), with more incidents than the default (labels are what tuning needs). */
export const TUNING_STREAM: StreamOptions = { count: 200_000, seed: 1001, incidents: 60 };

/** The decision unit tuned: a model × segment × field × window cell, as the dedup windows and the evaluator see it. */
export const TUNING_WINDOW_MS = 60_000;

/**
 * Scores every event of `stream` with per-key detectors and tunes both thresholds per detector.
 *
 * The unit is the one a Mention is: a model × segment × field × {@link TUNING_WINDOW_MS} window, and
 * its score is the `minEvents`-th highest point score in it (a mention needs that many anomalous
 * events, so the cell is flagged exactly when that score passes the threshold). A cell is positive
 * when an incident of the same model, segment and field overlaps the window. Tuning per point instead
 * would weigh heavy-tailed noise and an incident's quiet points against each other, not mentions.
 */
export function deriveThresholds(detectors: readonly string[], fields: readonly string[], stream: StreamOptions = TUNING_STREAM, minEvents = 2): Record<string, TunedThreshold & { fBeta: number; precisionTier: number | null }> {
  const generated = generateStream(stream);
  const incidents = generated.incidents;
  // Per detector: cell → the top `minEvents` scores (descending) and its label.
  const cells = new Map(detectors.map((d) => [d, new Map<string, { top: number[]; positive: boolean }>()]));
  const states = new Map<string, ReturnType<typeof createDetector>>();
  for (const event of generated.events) {
    const window = Math.floor(event.ts / TUNING_WINDOW_MS);
    for (const field of fields) {
      const value = inferenceFieldValue(event, field);
      if (value === undefined || !Number.isFinite(value)) continue;
      for (const name of detectors) {
        const key = `${event.model_id}\u0000${event.segment}\u0000${field}`;
        let detector = states.get(`${name}\u0000${key}`);
        if (detector === undefined) states.set(`${name}\u0000${key}`, (detector = createDetector(name)));
        const score = detector.score(event.ts, value);
        // A cell whose points all score 0 can never be flagged: leave it out.
        if (score <= 0) continue;
        const byCell = cells.get(name)!;
        const cellKey = `${key}\u0000${window}`;
        let cell = byCell.get(cellKey);
        if (cell === undefined) {
          const startMs = window * TUNING_WINDOW_MS;
          const positive = incidents.some((i) => i.model_id === event.model_id && i.segment === event.segment && i.field === field && i.start < startMs + TUNING_WINDOW_MS && i.end > startMs);
          byCell.set(cellKey, (cell = { top: [], positive }));
        }
        cell.top.push(score);
        cell.top.sort((a, b) => b - a);
        if (cell.top.length > minEvents) cell.top.length = minEvents;
      }
    }
  }
  const result: Record<string, TunedThreshold & { fBeta: number; precisionTier: number | null }> = {};
  for (const [name, byCell] of cells) {
    const scored = [...byCell.values()].filter((cell) => cell.top.length >= minEvents);
    const scores = scored.map((cell) => cell.top[minEvents - 1]!);
    const labels = scored.map((cell) => cell.positive);
    const fBeta = tuneThreshold(scores, labels, F_BETA);
    // The highest precision tier (≤ TARGET_PRECISION) that some threshold reaches; if none does, the
    // threshold of highest precision that still keeps MIN_RECALL of the positives. Never below F-beta's.
    const tier = [...fBeta.recallAtPrecision].filter((t) => t.threshold !== null && t.precision <= TARGET_PRECISION).sort((a, b) => b.precision - a.precision)[0];
    const precisionThreshold = tier?.threshold ?? mostPreciseThreshold(scores, labels, MIN_RECALL);
    result[name] = {
      precision: Math.max(precisionThreshold, fBeta.threshold),
      'f-beta': fBeta.threshold,
      fBeta: fBeta.fBeta,
      precisionTier: tier?.precision ?? null,
    };
  }
  return result;
}

/** The threshold of highest precision among those that keep at least `minRecall` of the positives (ties: the higher threshold). */
export function mostPreciseThreshold(scores: readonly number[], labels: readonly boolean[], minRecall: number): number {
  const positives = labels.filter(Boolean).length;
  const order = scores.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  let best = { threshold: Infinity, precision: -1 };
  let tp = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    if (labels[i]) tp++;
    const next = order[k + 1];
    if (next !== undefined && scores[next] === scores[i]) continue;
    const precision = tp / (k + 1);
    if (positives > 0 && tp / positives >= minRecall && precision > best.precision) best = { threshold: scores[i]!, precision };
  }
  return best.threshold;
}
