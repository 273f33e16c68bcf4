import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { resolveAnomalyWindows } from './anomaly-windows.js';
import { columnIndex, parseFiniteNumber, parseNabCsv } from './nab-csv.js';
import { parseNabTimestampField, parseNabTimestampMs } from './nab-timestamp.js';
import type { NabCorpus, NabDataFile } from './types.js';

const windowsFileSchema = z.record(z.string(), z.array(z.tuple([z.string(), z.string()])));

/**
 * Reads the NAB corpus: every `data/<category>/<file>.csv` with its windows from
 * `labels/combined_windows.json`. Files are returned sorted by relative path.
 *
 * Rows are kept in file order. Timestamps are not required to increase strictly: NAB's corpus has
 * a few repeated timestamps (daylight-saving artefacts) and one step backwards, which NAB accepts.
 *
 * @throws Error when a data file has no labels entry (or the reverse), a field does not parse, or
 *   a window cannot be placed on the file's rows.
 */
export async function readNabCorpus(dataDir: string): Promise<NabCorpus> {
  const labelsFile = path.join(dataDir, 'labels', 'combined_windows.json');
  const parsedLabels = windowsFileSchema.safeParse(JSON.parse(await readFile(labelsFile, 'utf8')));
  if (!parsedLabels.success) {
    throw new Error(`${labelsFile}: ${z.prettifyError(parsedLabels.error)}`);
  }
  const windowsByPath = parsedLabels.data;

  const relativePaths = await listDataFiles(path.join(dataDir, 'data'));
  const unlabelled = relativePaths.filter((relativePath) => !(relativePath in windowsByPath));
  if (unlabelled.length > 0) {
    throw new Error(`${labelsFile} has no entry for ${unlabelled.join(', ')}`);
  }
  const missing = Object.keys(windowsByPath).filter((relativePath) => !relativePaths.includes(relativePath));
  if (missing.length > 0) {
    throw new Error(`${labelsFile} labels files that are not under data/: ${missing.join(', ')}`);
  }

  const files = await Promise.all(
    relativePaths.map(async (relativePath) => {
      const source = path.join(dataDir, 'data', relativePath);
      const text = await readFile(source, 'utf8');
      return parseNabDataFile(relativePath, text, windowsByPath[relativePath] ?? [], source);
    }),
  );
  return { dataDir, files };
}

/**
 * Builds one corpus file from its CSV text (`timestamp,value`) and its window limits as the label
 * file writes them. Exposed so tests can build tiny corpora by hand.
 */
export function parseNabDataFile(
  relativePath: string,
  csvText: string,
  windowLimits: readonly (readonly [string, string])[],
  source: string = relativePath,
): NabDataFile {
  const table = parseNabCsv(csvText, source);
  const timestampColumn = columnIndex(table, 'timestamp', source);
  const valueColumn = columnIndex(table, 'value', source);
  const timestampsMs = new Float64Array(table.rows.length);
  const values = new Float64Array(table.rows.length);
  table.rows.forEach((row, rowIndex) => {
    const timestampMs = parseNabTimestampField(row[timestampColumn] ?? '', source, rowIndex);
    timestampsMs[rowIndex] = timestampMs;
    values[rowIndex] = parseFiniteNumber(row[valueColumn] ?? '', source, rowIndex, 'value');
  });
  const windows = resolveAnomalyWindows(
    timestampsMs,
    windowLimits.map(([start, end]) => ({ startMs: parseNabTimestampMs(start), endMs: parseNabTimestampMs(end) })),
    source,
  );
  const category = path.posix.dirname(relativePath);
  return { relativePath, category, fileName: path.posix.basename(relativePath), timestampsMs, values, windows };
}

/** `<category>/<file>.csv` for every CSV one level below `data/` (NAB's layout), sorted. */
async function listDataFiles(dataRoot: string): Promise<string[]> {
  const categories = (await readdir(dataRoot, { withFileTypes: true })).filter((entry) => entry.isDirectory());
  const nested = await Promise.all(
    categories.map(async (category) =>
      (await readdir(path.join(dataRoot, category.name)))
        .filter((name) => name.endsWith('.csv'))
        .map((name) => `${category.name}/${name}`),
    ),
  );
  return nested.flat().sort();
}
