/** Shapes shared by the NAB reader, scorer, optimiser and driver. */

/** A labelled anomaly window resolved to the rows of its data file (both ends inclusive). */
export interface AnomalyWindow {
  readonly startMs: number;
  readonly endMs: number;
  readonly firstRow: number;
  readonly lastRow: number;
}

/** One NAB data file, with its labelled windows. Rows are in file order (time order, give or take NAB's few repeated timestamps). */
export interface NabDataFile {
  /** Path under `data/`, e.g. `realKnownCause/nyc_taxi.csv`; the key used by the label files. */
  readonly relativePath: string;
  /** Folder under `data/`, e.g. `realKnownCause`. */
  readonly category: string;
  /** File name, e.g. `nyc_taxi.csv`. */
  readonly fileName: string;
  readonly timestampsMs: Float64Array;
  readonly values: Float64Array;
  readonly windows: readonly AnomalyWindow[];
}

export interface NabCorpus {
  readonly dataDir: string;
  /** Sorted by relative path. */
  readonly files: readonly NabDataFile[];
}

/** A detector's anomaly score for every row of one data file (same order, same length). */
export interface DetectorFileScores {
  readonly relativePath: string;
  readonly anomalyScores: Float64Array;
}

/** Weights of one scoring profile (NAB's cost matrix; the true-negative weight is unused by NAB). */
export interface NabProfile {
  readonly name: string;
  readonly tpWeight: number;
  readonly fpWeight: number;
  readonly fnWeight: number;
}
