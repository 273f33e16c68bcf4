import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { columnIndex, parseFiniteNumber, parseNabCsv } from './nab-csv.js';
import { parseNabTimestampField } from './nab-timestamp.js';
import type { DetectorFileScores, NabCorpus, NabDataFile } from './types.js';

/** Where NAB keeps a detector's output for a data file: `<root>/<detector>/<category>/<detector>_<file>`. */
export function detectorResultsPath(resultsRoot: string, detector: string, file: NabDataFile): string {
  return path.join(resultsRoot, detector, file.category, `${detector}_${file.fileName}`);
}

/**
 * Reads a detector's NAB-format results for every corpus file (`timestamp,anomaly_score`, extra
 * columns such as `value` and `label` ignored), e.g. `reference-results/numenta/...`.
 *
 * @throws Error when a file is missing, a score is not a finite number, or the rows do not match
 *   the data file's timestamps one for one.
 */
export async function readDetectorResults(
  resultsRoot: string,
  detector: string,
  corpus: NabCorpus,
): Promise<DetectorFileScores[]> {
  return Promise.all(
    corpus.files.map(async (file) => {
      const source = detectorResultsPath(resultsRoot, detector, file);
      return parseDetectorResultsCsv(await readFile(source, 'utf8'), file, source);
    }),
  );
}

/** Parses one results CSV against the data file it scores. */
export function parseDetectorResultsCsv(text: string, file: NabDataFile, source: string): DetectorFileScores {
  const table = parseNabCsv(text, source);
  const timestampColumn = columnIndex(table, 'timestamp', source);
  const scoreColumn = columnIndex(table, 'anomaly_score', source);
  if (table.rows.length !== file.timestampsMs.length) {
    throw new Error(`${source}: ${table.rows.length} rows, but ${file.relativePath} has ${file.timestampsMs.length}`);
  }
  const anomalyScores = new Float64Array(table.rows.length);
  table.rows.forEach((row, rowIndex) => {
    if (parseNabTimestampField(row[timestampColumn] ?? '', source, rowIndex) !== file.timestampsMs[rowIndex]) {
      throw new Error(`${source}: data row ${rowIndex + 1}: timestamp does not match ${file.relativePath}`);
    }
    anomalyScores[rowIndex] = parseFiniteNumber(row[scoreColumn] ?? '', source, rowIndex, 'anomaly_score');
  });
  return { relativePath: file.relativePath, anomalyScores };
}
