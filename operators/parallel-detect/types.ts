/**
 * The detector interfaces.
 *
 * Two levels, so that the same arithmetic serves a stream operator and an offline scorer:
 *
 * - {@link Detector}: one univariate series, driven point by point. `score(t, x)` scores x from the
 *   points seen *before* it (never from later ones), then learns from it. This is what a NAB runner
 *   drives, and what {@link perKeyDetector} keeps one of per model × segment × field.
 * - {@link RecordDetector}: the plug-in that `parallelDetect` runs on whole records: a name, the
 *   fields it watches, `update(record) → findings`, and snapshot/restore of its state.
 */

/** Which way a finding points: above normal, below normal, or a change in distribution. */
export type Direction = 'HIGH' | 'LOW' | 'SHIFT';

/** A point's anomaly score in [0, 1] and the direction it points in. */
export interface PointScore {
  readonly score: number;
  readonly direction: Direction;
}

/** A detector's state as plain serialisable data (JSON-safe): kept in changelog topics by a later issue. */
export type DetectorState = Readonly<Record<string, unknown>>;

/** A streaming detector over one univariate series. */
export interface Detector {
  /** The registry name (`ewma-zscore`, `mad`, …). */
  readonly name: string;
  /** The score at or above which a point counts as a finding (the detector's default threshold). */
  readonly threshold: number;
  /**
   * Scores `value` at `timestampMs` (epoch ms) from the data seen before it, then learns from it.
   * Returns an anomaly score in [0, 1]; 0 during warm-up and for non-finite values (which are not learnt).
   */
  score(timestampMs: number, value: number): number;
  /** {@link score} with the direction of the deviation. */
  observe(timestampMs: number, value: number): PointScore;
  snapshot(): DetectorState;
  restore(state: DetectorState): void;
}

/**
 * Makes a fresh detector. Options are plain numbers (so a parameter sweep can pass them as data);
 * an unknown option or an out-of-range value throws a RangeError that names it.
 */
export type DetectorFactory = (options?: Readonly<Record<string, number>>) => Detector;

/** One anomalous field of one record. */
export interface Finding {
  /** The event field: `latency_ms`, `confidence`, `prediction`, `input_tokens`, `output_tokens`, `features[i]`. */
  readonly field: string;
  readonly direction: Direction;
  /** Anomaly score in [0, 1]. */
  readonly score: number;
  /** The detector's name. */
  readonly detector: string;
  /** True when the detector runs in shadow mode: its findings are recorded, never shown to humans. */
  readonly shadow: boolean;
}

/** The plug-in that `parallelDetect` runs on each record. */
export interface RecordDetector<T> {
  readonly name: string;
  /** The fields it watches (documentation and metrics; `update` decides what it reads). */
  readonly fields: readonly string[];
  /** Shadow mode: findings are marked `shadow: true`. */
  readonly shadow: boolean;
  /**
   * Learns from one record and returns what it finds. Called in arrival order; a detector that
   * returns a promise must apply its state change before its first `await`.
   */
  update(record: T, eventTimeMs: number): readonly Finding[] | Promise<readonly Finding[]>;
  snapshot(): DetectorState;
  restore(state: DetectorState): void;
}

/** A RecordDetector whose `update` answers at once (the per-key detectors: no I/O). */
export interface SyncRecordDetector<T> extends RecordDetector<T> {
  update(record: T, eventTimeMs: number): readonly Finding[];
}
