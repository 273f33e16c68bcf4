import type { FileScoringLayout } from './scoring-layout.js';
import type { NabProfile } from './types.js';

/**
 * Raw score of NAB's null detector (never detects): every scored window is missed.
 * NAB measures it by running that detector; with no detections it is exactly this.
 */
export function nullDetectorRawScore(layouts: readonly FileScoringLayout[], profile: NabProfile): number {
  let scoredWindows = 0;
  for (const layout of layouts) for (const scored of layout.windowScored) scoredWindows += scored;
  return -scoredWindows * profile.fnWeight;
}

/** Raw score of a perfect detector: one detection on the first row of every labelled window. */
export function perfectDetectorRawScore(layouts: readonly FileScoringLayout[], profile: NabProfile): number {
  const windows = layouts.reduce((sum, layout) => sum + layout.windowScored.length, 0);
  return windows * profile.tpWeight;
}

/** NAB's final score: 0 for the null detector, 100 for the perfect one, `100 (raw - null) / (perfect - null)`. */
export function normalizeNabScore(rawScore: number, nullRawScore: number, perfectRawScore: number): number {
  if (!(perfectRawScore > nullRawScore)) {
    throw new RangeError(
      `cannot normalise: perfect raw score ${perfectRawScore} must exceed the null raw score ${nullRawScore} ` +
        '(does the corpus have any scored anomaly window?)',
    );
  }
  return (100 * (rawScore - nullRawScore)) / (perfectRawScore - nullRawScore);
}
