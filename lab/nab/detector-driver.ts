import type { DetectorFileScores, NabCorpus } from './types.js';

/**
 * A streaming anomaly detector as the NAB driver sees it: fed one point at a time in time order,
 * it returns that point's anomaly score in [0, 1] from the data seen so far (no look-ahead).
 */
export interface StreamingAnomalyDetector {
  score(timestampMs: number, value: number): number;
}

/**
 * What a detector may know about a file before its first point: its name and length (NAB detectors
 * use the length for their own probationary period). Not the values and not the labels, so nothing
 * can look ahead.
 */
export interface NabFileInfo {
  readonly relativePath: string;
  readonly category: string;
  readonly fileName: string;
  readonly rowCount: number;
}

/** Makes a fresh detector for one data file, so no state leaks from one file to the next. */
export type DetectorFactory = (file: NabFileInfo) => StreamingAnomalyDetector;

/**
 * Runs a detector over every file of the corpus, point by point with a fresh instance per file,
 * and returns its scores in the shape the scorer and threshold optimiser take.
 *
 * @throws RangeError naming the file and row when a score is not a number in [0, 1].
 */
export function scoreDetectorOverCorpus(corpus: NabCorpus, createDetector: DetectorFactory): DetectorFileScores[] {
  return corpus.files.map((file) => {
    const rowCount = file.timestampsMs.length;
    const detector = createDetector({
      relativePath: file.relativePath,
      category: file.category,
      fileName: file.fileName,
      rowCount,
    });
    const anomalyScores = new Float64Array(rowCount);
    for (let row = 0; row < rowCount; row++) {
      const score = detector.score(file.timestampsMs[row] ?? 0, file.values[row] ?? 0);
      if (!(score >= 0 && score <= 1)) {
        throw new RangeError(`${file.relativePath}: row ${row + 1}: detector score ${score} is not in [0, 1]`);
      }
      anomalyScores[row] = score;
    }
    return { relativePath: file.relativePath, anomalyScores };
  });
}
