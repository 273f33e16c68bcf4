import { pairScoresWithLayouts } from './detector-scores-lookup.js';
import type { FileScoringLayout } from './scoring-layout.js';
import type { DetectorFileScores, NabProfile } from './types.js';

/** The raw NAB score of one file at one threshold, with what went into it. */
export interface FileScore {
  readonly relativePath: string;
  readonly rawScore: number;
  /** Windows with at least one detection (only the earliest one counts). */
  readonly detectedWindows: number;
  /** Scored windows without any detection; each costs the false-negative weight. */
  readonly missedWindows: number;
  /** Detections outside every window, after probation. */
  readonly falsePositives: number;
}

export interface CorpusScore {
  /** Sum of the files' raw scores. */
  readonly rawScore: number;
  readonly files: readonly FileScore[];
}

/**
 * Scores one file: a row is a detection when its anomaly score is >= `threshold` and it lies past
 * the probationary period. Each window earns the reward of its earliest detection (later ones in the
 * same window count nothing) or costs the false-negative weight if it has none; each detection
 * outside a window costs its share of the false-positive weight.
 */
export function scoreFileAtThreshold(
  layout: FileScoringLayout,
  anomalyScores: Float64Array,
  profile: NabProfile,
  threshold: number,
): FileScore {
  const windowDetected = new Uint8Array(layout.windowScored.length);
  let rawScore = 0;
  let detectedWindows = 0;
  let falsePositives = 0;
  for (let row = layout.probationaryRows; row < layout.rowCount; row++) {
    if (!((anomalyScores[row] ?? -Infinity) >= threshold)) continue;
    const windowIndex = layout.windowOfRow[row] ?? -1;
    const share = layout.rowWeightShare[row] ?? 0;
    if (windowIndex < 0) {
      rawScore += share * profile.fpWeight;
      falsePositives++;
    } else if (windowDetected[windowIndex] === 0) {
      windowDetected[windowIndex] = 1;
      rawScore += share * profile.tpWeight;
      detectedWindows++;
    }
  }
  let missedWindows = 0;
  layout.windowScored.forEach((scored, windowIndex) => {
    if (scored === 1 && windowDetected[windowIndex] === 0) missedWindows++;
  });
  rawScore -= missedWindows * profile.fnWeight;
  return { relativePath: layout.relativePath, rawScore, detectedWindows, missedWindows, falsePositives };
}

/** Scores every file at one threshold and sums the raw scores. */
export function scoreCorpusAtThreshold(
  layouts: readonly FileScoringLayout[],
  detectorScores: readonly DetectorFileScores[],
  profile: NabProfile,
  threshold: number,
): CorpusScore {
  const paired = pairScoresWithLayouts(layouts, detectorScores);
  const files = layouts.map((layout, index) =>
    scoreFileAtThreshold(layout, paired[index] ?? new Float64Array(), profile, threshold),
  );
  return { rawScore: files.reduce((sum, file) => sum + file.rawScore, 0), files };
}
