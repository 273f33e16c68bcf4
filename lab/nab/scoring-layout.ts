import { probationaryRowCount, NAB_PROBATIONARY_FRACTION } from './probation.js';
import { EARLIEST_DETECTION_SIGMOID, scaledSigmoid } from './scaled-sigmoid.js';
import type { NabCorpus, NabDataFile } from './types.js';

/**
 * What a detection on each row of a file would be worth, independent of the detector and of the
 * profile weights. Built once per corpus and shared by every detector, profile and threshold.
 */
export interface FileScoringLayout {
  readonly relativePath: string;
  readonly rowCount: number;
  /** Rows `[0, probationaryRows)` are not scored at all. */
  readonly probationaryRows: number;
  /** Index of the window holding each row, or -1 for a row outside every window. */
  readonly windowOfRow: Int32Array;
  /**
   * For a row in a window: the share of the true-positive weight that a first detection there
   * earns (1 on the window's first row, falling towards the right edge). For a row outside: the
   * share of the false-positive weight it is charged, negative (-1 before the first window).
   */
  readonly rowWeightShare: Float64Array;
  /** Per window: 1 if it has a row past probation (a miss costs the false-negative weight), else 0. */
  readonly windowScored: Uint8Array;
}

/**
 * Lays out one file for scoring, following NAB's rules:
 *
 * - In a window of `width` rows whose last row is `right`, row `i` sits at relative position
 *   `-(right - i + 1) / width` (so -1 on the first row; NAB's `+ 1` keeps the last row just short of
 *   0), and a first detection there earns `scaledSigmoid(position) / scaledSigmoid(-1)` of tpWeight.
 * - After a window, row `i` sits at `(i - right) / (width - 1)` window widths past the preceding
 *   window's right edge and a detection costs `|scaledSigmoid(position)|` of fpWeight: a detection
 *   right after a window costs almost nothing, one 3+ widths later the full weight. (A one-row
 *   window has no extent to measure by; everything after it is charged the full weight.)
 * - Before the first window a detection costs the full fpWeight.
 */
export function buildScoringLayout(
  file: NabDataFile,
  probationaryFraction: number = NAB_PROBATIONARY_FRACTION,
): FileScoringLayout {
  const rowCount = file.timestampsMs.length;
  const probationaryRows = probationaryRowCount(rowCount, probationaryFraction);
  const windowOfRow = new Int32Array(rowCount).fill(-1);
  const rowWeightShare = new Float64Array(rowCount);
  const windowScored = new Uint8Array(file.windows.length);

  file.windows.forEach((window, windowIndex) => {
    const width = window.lastRow - window.firstRow + 1;
    for (let row = window.firstRow; row <= window.lastRow; row++) {
      windowOfRow[row] = windowIndex;
      rowWeightShare[row] = scaledSigmoid(-(window.lastRow - row + 1) / width) / EARLIEST_DETECTION_SIGMOID;
    }
    windowScored[windowIndex] = window.lastRow >= probationaryRows ? 1 : 0;
  });

  let precedingWindow: { lastRow: number; width: number } | undefined;
  let nextWindowIndex = 0;
  for (let row = 0; row < rowCount; row++) {
    const nextWindow = file.windows[nextWindowIndex];
    if (nextWindow !== undefined && row === nextWindow.firstRow) {
      precedingWindow = { lastRow: nextWindow.lastRow, width: nextWindow.lastRow - nextWindow.firstRow + 1 };
      nextWindowIndex++;
      row = nextWindow.lastRow;
      continue;
    }
    if (precedingWindow === undefined || precedingWindow.width <= 1) {
      rowWeightShare[row] = -1;
    } else {
      rowWeightShare[row] = scaledSigmoid((row - precedingWindow.lastRow) / (precedingWindow.width - 1));
    }
  }

  return { relativePath: file.relativePath, rowCount, probationaryRows, windowOfRow, rowWeightShare, windowScored };
}

/** Lays out every file of a corpus (same order as `corpus.files`). */
export function buildCorpusScoringLayouts(
  corpus: NabCorpus,
  probationaryFraction: number = NAB_PROBATIONARY_FRACTION,
): FileScoringLayout[] {
  return corpus.files.map((file) => buildScoringLayout(file, probationaryFraction));
}
