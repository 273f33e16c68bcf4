/**
 * Writes a detector's scores in NAB's results format, the files NAB's own scorer reads:
 * `<root>/<detector>/<category>/<detector>_<file>.csv` with the columns
 * `timestamp,value,anomaly_score,label`. Timestamps are printed exactly as NAB's data files print
 * them (`YYYY-MM-DD HH:MM:SS`), scores at full double precision so that reading the files back
 * scores the same as the numbers in memory, and `label` is 1 inside a labelled window, else 0.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { detectorResultsPath } from './detector-results.js';
import type { DetectorFileScores, NabCorpus, NabDataFile } from './types.js';

export const NAB_RESULTS_HEADER = 'timestamp,value,anomaly_score,label';

/**
 * A timestamp (epoch ms, read as UTC by {@link parseNabTimestampMs}) in NAB's data-file form,
 * `YYYY-MM-DD HH:MM:SS`. Milliseconds are not printed: NAB's data has whole seconds only.
 */
export function formatNabTimestamp(timestampMs: number): string {
  const date = new Date(timestampMs);
  if (Number.isNaN(date.getTime())) throw new RangeError(`not a timestamp: ${timestampMs}`);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${String(date.getUTCFullYear()).padStart(4, '0')}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`
  );
}

/** 1 for every row inside one of the file's windows, else 0. */
export function windowLabels(file: NabDataFile): Uint8Array {
  const labels = new Uint8Array(file.timestampsMs.length);
  for (const window of file.windows) labels.fill(1, window.firstRow, window.lastRow + 1);
  return labels;
}

/**
 * The results CSV of one data file.
 *
 * @throws RangeError when the scores do not match the file row for row or a score is outside [0, 1].
 */
export function formatDetectorResultsCsv(file: NabDataFile, scores: DetectorFileScores): string {
  const rowCount = file.timestampsMs.length;
  if (scores.relativePath !== file.relativePath || scores.anomalyScores.length !== rowCount) {
    throw new RangeError(
      `scores for ${scores.relativePath} (${scores.anomalyScores.length} rows) do not match ${file.relativePath} (${rowCount} rows)`,
    );
  }
  const labels = windowLabels(file);
  const lines = [NAB_RESULTS_HEADER];
  for (let row = 0; row < rowCount; row++) {
    const score = scores.anomalyScores[row]!;
    if (!(score >= 0 && score <= 1)) {
      throw new RangeError(`${file.relativePath}: row ${row + 1}: score ${score} is not in [0, 1]`);
    }
    lines.push(`${formatNabTimestamp(file.timestampsMs[row]!)},${file.values[row]!},${score},${labels[row]!}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * Writes one detector's results for every corpus file under `resultsRoot` and returns the paths
 * written, in corpus order. `scores` must be in corpus order too.
 */
export async function writeDetectorResults(
  resultsRoot: string,
  detector: string,
  corpus: NabCorpus,
  scores: readonly DetectorFileScores[],
): Promise<string[]> {
  if (scores.length !== corpus.files.length) {
    throw new RangeError(`${detector}: scores for ${scores.length} files, the corpus has ${corpus.files.length}`);
  }
  const written: string[] = [];
  for (const [index, file] of corpus.files.entries()) {
    const target = detectorResultsPath(resultsRoot, detector, file);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, formatDetectorResultsCsv(file, scores[index]!));
    written.push(target);
  }
  return written;
}
