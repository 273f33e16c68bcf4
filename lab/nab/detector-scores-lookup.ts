import type { FileScoringLayout } from './scoring-layout.js';
import type { DetectorFileScores } from './types.js';

/**
 * Pairs each laid-out file with the detector's scores for it.
 *
 * @throws Error when a file has no scores or a different number of rows than the data file.
 */
export function pairScoresWithLayouts(
  layouts: readonly FileScoringLayout[],
  detectorScores: readonly DetectorFileScores[],
): Float64Array[] {
  const byPath = new Map(detectorScores.map((scores) => [scores.relativePath, scores.anomalyScores]));
  return layouts.map((layout) => {
    const anomalyScores = byPath.get(layout.relativePath);
    if (anomalyScores === undefined) {
      throw new Error(`no detector scores for ${layout.relativePath}`);
    }
    if (anomalyScores.length !== layout.rowCount) {
      throw new Error(
        `${layout.relativePath}: detector gave ${anomalyScores.length} scores for ${layout.rowCount} data rows`,
      );
    }
    return anomalyScores;
  });
}
