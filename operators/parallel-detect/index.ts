export * from './types.js';
export * from './registry.js';
export { EwmaZScoreDetector, ewmaZScore, ewmaZScoreOptionSpec } from './ewma-zscore.js';
export { MadDetector, mad, madOptionSpec } from './mad.js';
export { CusumDetector, cusum, cusumOptionSpec } from './cusum.js';
export { PageHinkleyDetector, pageHinkley, pageHinkleyOptionSpec } from './page-hinkley.js';
export { AdwinDetector, adwin, adwinOptionSpec } from './adwin.js';
export { HalfSpaceForest, HalfSpaceTreesDetector, halfSpaceTrees, halfSpaceTreesOptionSpec } from './half-space-trees.js';
export { RangeBreakoutDetector, breakoutEvidence, evidenceScore, rangeBreakout, rangeBreakoutOptionSpec } from './range-breakout.js';
export { MultiscaleBreakoutDetector, multiscaleBreakout, multiscaleBreakoutOptionSpec } from './multiscale-breakout.js';
export { tuneThreshold, precisionTiers, type ThresholdTuning, type RecallAtPrecision } from './tune-threshold.js';
export { erf, gaussianTailScore, alarmRatioScore, twoSidedNegLog10P, decadesScore, scoreAtTailProbability } from './stats.js';
export {
  perKeyDetector,
  featureForestDetector,
  inferenceFieldValue,
  modelSegmentKey,
  scalarFields,
  type ScalarField,
  type ModelRecord,
  type PerKeyDetectorOptions,
  type FeatureForestDetectorOptions,
} from './per-key.js';
