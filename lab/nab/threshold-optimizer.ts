import { pairScoresWithLayouts } from './detector-scores-lookup.js';
import { nullDetectorRawScore } from './normalization.js';
import type { FileScoringLayout } from './scoring-layout.js';
import type { DetectorFileScores, NabProfile } from './types.js';

/**
 * Threshold that detects nothing, reported when no threshold beats the null detector. Anomaly
 * scores are in [0, 1]; NAB starts its sweep from the same value. (Should a detector's scores reach
 * 1.1, the optimiser reports `Infinity` instead.)
 */
export const DETECT_NOTHING_THRESHOLD = 1.1;

export interface ThresholdChoice {
  readonly profile: string;
  readonly threshold: number;
  /** Raw corpus score at that threshold. */
  readonly rawScore: number;
}

/**
 * Every scored row of the corpus in descending anomaly-score order, with what a detection there is
 * worth. Sorting is the expensive part, so it is done once and swept once per profile.
 */
export interface ThresholdSweep {
  /** Anomaly score of each entry, descending. */
  readonly anomalyScores: Float64Array;
  /** Corpus-wide window id of each entry, or -1 outside every window. */
  readonly corpusWindow: Int32Array;
  readonly rowWeightShare: Float64Array;
  readonly corpusWindowCount: number;
  readonly layouts: readonly FileScoringLayout[];
}

/** Collects and sorts the scored rows of every file (probationary rows are left out). */
export function prepareThresholdSweep(
  layouts: readonly FileScoringLayout[],
  detectorScores: readonly DetectorFileScores[],
): ThresholdSweep {
  const paired = pairScoresWithLayouts(layouts, detectorScores);
  const rowCount = layouts.reduce((sum, layout) => sum + layout.rowCount - layout.probationaryRows, 0);
  const scores = new Float64Array(rowCount);
  const windows = new Int32Array(rowCount);
  const shares = new Float64Array(rowCount);
  let entry = 0;
  let windowOffset = 0;
  layouts.forEach((layout, fileIndex) => {
    const anomalyScores = paired[fileIndex] ?? new Float64Array();
    for (let row = layout.probationaryRows; row < layout.rowCount; row++, entry++) {
      const windowIndex = layout.windowOfRow[row] ?? -1;
      scores[entry] = anomalyScores[row] ?? 0;
      windows[entry] = windowIndex < 0 ? -1 : windowOffset + windowIndex;
      shares[entry] = layout.rowWeightShare[row] ?? 0;
    }
    windowOffset += layout.windowScored.length;
  });

  const order = new Uint32Array(rowCount).map((_, index) => index);
  order.sort((left, right) => (scores[right] ?? 0) - (scores[left] ?? 0));
  return {
    anomalyScores: Float64Array.from(order, (index) => scores[index] ?? 0),
    corpusWindow: Int32Array.from(order, (index) => windows[index] ?? -1),
    rowWeightShare: Float64Array.from(order, (index) => shares[index] ?? 0),
    corpusWindowCount: windowOffset,
    layouts,
  };
}

/**
 * NAB's threshold optimisation: tries every distinct anomaly score of the corpus as the threshold
 * (a row is a detection when its score is >= the threshold) and keeps the one with the highest raw
 * corpus score. Lowering the threshold past each score adds that group of rows as detections, so
 * one pass over the sorted rows scores every threshold: a row outside a window adds its
 * false-positive cost; a row inside a window replaces the window's current value (the miss penalty,
 * or an earlier detection's reward) if it is worth more, i.e. if it is the earliest so far.
 *
 * Ties in score go to the higher threshold, as in NAB. When nothing beats detecting nothing, the
 * answer is {@link DETECT_NOTHING_THRESHOLD} with the null detector's raw score.
 */
export function optimizeThreshold(sweep: ThresholdSweep, profile: NabProfile): ThresholdChoice {
  const windowValue = new Float64Array(sweep.corpusWindowCount).fill(-profile.fnWeight);
  let rawScore = nullDetectorRawScore(sweep.layouts, profile);
  const topScore = sweep.anomalyScores[0] ?? 0;
  let best: ThresholdChoice = {
    profile: profile.name,
    threshold: topScore < DETECT_NOTHING_THRESHOLD ? DETECT_NOTHING_THRESHOLD : Infinity,
    rawScore,
  };
  const entries = sweep.anomalyScores.length;
  for (let entry = 0; entry < entries; entry++) {
    const window = sweep.corpusWindow[entry] ?? -1;
    const share = sweep.rowWeightShare[entry] ?? 0;
    if (window < 0) {
      rawScore += share * profile.fpWeight;
    } else {
      const reward = share * profile.tpWeight;
      const current = windowValue[window] ?? 0;
      if (reward > current) {
        rawScore += reward - current;
        windowValue[window] = reward;
      }
    }
    const threshold = sweep.anomalyScores[entry] ?? 0;
    const lastOfItsScore = entry === entries - 1 || sweep.anomalyScores[entry + 1] !== threshold;
    if (lastOfItsScore && rawScore > best.rawScore) {
      best = { profile: profile.name, threshold, rawScore };
    }
  }
  return best;
}
