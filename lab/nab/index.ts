/**
 * NAB (Numenta Anomaly Benchmark) scoring in TypeScript, written from NAB's published rules:
 * read the corpus, lay out what a detection on each row is worth, score a detector at a threshold,
 * optimise the threshold per profile, normalise against the null and perfect detectors.
 *
 * Typical use:
 *   const corpus = await readNabCorpus(resolveNabDataDir());
 *   const layouts = buildCorpusScoringLayouts(corpus);
 *   const scores = scoreDetectorOverCorpus(corpus, (file) => new MyDetector(file));
 *   const byProfile = evaluateDetector(layouts, scores, await readNabProfiles(corpus.dataDir));
 */
export { resolveAnomalyWindows, type WindowLimitsMs } from './anomaly-windows.js';
export { parseNabDataFile, readNabCorpus } from './corpus.js';
export { NAB_DATA_DIR_ENV, resolveNabDataDir } from './data-dir.js';
export {
  scoreDetectorOverCorpus,
  type DetectorFactory,
  type NabFileInfo,
  type StreamingAnomalyDetector,
} from './detector-driver.js';
export { detectorResultsPath, parseDetectorResultsCsv, readDetectorResults } from './detector-results.js';
export { evaluateDetector, type EvaluateDetectorOptions, type ProfileScore } from './evaluate-detector.js';
export { parseNabCsv } from './nab-csv.js';
export { parseNabTimestampMs } from './nab-timestamp.js';
export { normalizeNabScore, nullDetectorRawScore, perfectDetectorRawScore } from './normalization.js';
export { NAB_PROBATIONARY_FRACTION, probationaryRowCount } from './probation.js';
export { NAB_PROFILE_NAMES, parseNabProfiles, readNabProfiles, type NabProfileName } from './profiles.js';
export {
  readPublishedFinalScores,
  readPublishedThresholds,
  type NabFinalScores,
  type NabThresholds,
} from './published-results.js';
export { EARLIEST_DETECTION_SIGMOID, scaledSigmoid } from './scaled-sigmoid.js';
export { scoreCorpusAtThreshold, scoreFileAtThreshold, type CorpusScore, type FileScore } from './score-at-threshold.js';
export { buildCorpusScoringLayouts, buildScoringLayout, type FileScoringLayout } from './scoring-layout.js';
export {
  DETECT_NOTHING_THRESHOLD,
  optimizeThreshold,
  prepareThresholdSweep,
  type ThresholdChoice,
  type ThresholdSweep,
} from './threshold-optimizer.js';
export type { AnomalyWindow, DetectorFileScores, NabCorpus, NabDataFile, NabProfile } from './types.js';
export {
  buildScoreboard,
  formatScoreboardMarkdown,
  formatScoreboardText,
  toNabFinalScores,
  type ScoreboardRow,
} from './scoreboard.js';
