/**
 * Detector thresholds for model-monitor, by `MODEL_MONITOR_THRESHOLD_TUNING`:
 *
 * - `precision`: the threshold of the highest precision tier of tune-threshold (≤ 99%) that labelled
 *   data reaches, else the threshold of highest precision that keeps 10% recall (few false positives,
 *   misses more) — the efficiency-tuned baseline's choice;
 * - `f-beta`: the threshold that maximises F-beta with β = 2 (recall weighs twice as much as
 *   precision: sampling, dedup and min-evidence upstream and downstream thin out false positives).
 *
 * The thresholds are read from tuned-thresholds.json; a detector missing from that file keeps its own
 * default threshold. They are derived in the lab (lab/tuning/model-monitor-thresholds.ts) on labelled
 * data that is *not* any stream we evaluate on; `npx tsx scripts/tune-model-monitor-thresholds.ts`
 * re-derives them and rewrites the file. The topology itself imports nothing of the lab.
 */
import { createDetector } from '../../operators/parallel-detect/index.js';
import tuned from './tuned-thresholds.json' with { type: 'json' };

export type ThresholdTuning = 'precision' | 'f-beta';

export interface TunedThreshold {
  readonly precision: number;
  readonly 'f-beta': number;
}

const table = tuned as { readonly detectors: Readonly<Record<string, TunedThreshold>> };

/** The threshold of `detector` under `tuning`: the tuned one, else the detector's own default. */
export function thresholdFor(detector: string, tuning: ThresholdTuning): number {
  return table.detectors[detector]?.[tuning] ?? createDetector(detector).threshold;
}
