/**
 * The operator library in one import, for topology authors:
 *
 * ```ts
 * import { adaptiveSample, changeSketch, enrich, keyedPartition, parallelDetect, windowedDedup, perKeyDetector, SeededRandom } from '../../operators/index.js';
 * ```
 *
 * The operators with their option types, the values they emit (`Sampled`, `Enriched`,
 * `Detection`), event-time helpers, seeded randomness and the detector registry. The pure logic
 * behind each operator (reservoirs, lane table, mention table, …) stays in its folder; import it from
 * there when you need it.
 */

// adaptiveSample
export { adaptiveSample, type AdaptiveSampleOptions, type Sampled, type SampleBudget, type SamplingStrategy } from './adaptive-sample.js';

// backgroundRate
export {
  backgroundRate,
  BackgroundTable,
  poissonUpperTail,
  type BackgroundRateOptions,
  type BackgroundRate,
  type BackgroundObservation,
  type BackgroundQuery,
  type BackgroundEvidence,
} from './background-rate.js';

// banditBudget
export {
  banditBudget,
  type BanditBudgetOptions,
  type BanditArm,
  type ArmFeedback,
  type BudgetAllocation,
} from './bandit-budget.js';
export { BudgetBandit, splitBudget, type ArmShare, type BanditPolicy, type BudgetBanditSnapshot } from './bandit-budget/index.js';

// changeSketch
export { changeSketch, type ChangeSketchOptions, type SketchField, type Sketched, type SketchAlarm, type SketchLevel, type AlarmDirection, type FieldTransform } from './change-sketch.js';

// enrich
export {
  enrich,
  EnrichCounters,
  LookupTimeoutError,
  PendingOverflowError,
  type EnrichOptions,
  type Enriched,
  type EnrichStatus,
  type EnrichFailure,
  type Lookup,
  type BatchLookup,
} from './enrich.js';

// keyedPartition
export {
  keyedPartition,
  PartitionProbe,
  LaneOverflowError,
  type KeyedPartitionOptions,
  type LaneWork,
} from './keyed-partition.js';
export type { LaneStats, HotKey } from './keyed-partition/index.js';

// parallelDetect and the detectors
export {
  parallelDetect,
  DetectCounters,
  DetectTimeoutError,
  DetectOverflowError,
  type ParallelDetectOptions,
  type Detection,
  type DetectFailure,
  type Finding,
  type RecordDetector,
  type SyncRecordDetector,
} from './parallel-detect.js';
export {
  detectorFactories,
  detectorNames,
  isDetectorName,
  createDetector,
  perKeyDetector,
  featureForestDetector,
  inferenceFieldValue,
  modelSegmentKey,
  scalarFields,
  tuneThreshold,
  precisionTiers,
  type DetectorName,
  type Detector,
  type DetectorFactory,
  type DetectorState,
  type Direction,
  type PointScore,
  type ScalarField,
  type ModelRecord,
  type PerKeyDetectorOptions,
  type FeatureForestDetectorOptions,
  type ThresholdTuning,
  type RecallAtPrecision,
} from './parallel-detect/index.js';

// robustZScore
export { robustZScore, RobustMoments, type RobustZScoreOptions, type ZScoreField, type ZScored } from './robust-z-score.js';

// windowedDedup
export { windowedDedup, DedupCounters, type WindowedDedupOptions, type DedupWindow, type DedupMention } from './windowed-dedup.js';
export type { MentionSourceEvent } from './windowed-dedup/index.js';

// Shared: event time and randomness
export {
  type EventTimeWindow,
  type TumblingWindowSpec,
  type HoppingWindowSpec,
  type PartitionId,
  type WatermarkTrackerOptions,
  type WatermarkObservation,
  type WatermarkTrackerSnapshot,
  type LateRecordPolicy,
  windowStartMs,
  tumblingWindowFor,
  hoppingWindowsFor,
  epochIndex,
  epochWindow,
  isWindowComplete,
  isLateForWindow,
  WatermarkTracker,
  OperatorWatermark,
} from '../core/event-time/index.js';
// watermarkHold
export { watermarkHold, EventTimeHold, type WatermarkHold } from './watermark-hold.js';
// windowDelayProbe
export { windowDelayProbe, WindowDelayTracker, type WindowDelayProbeOptions, type WindowDelayProbe, type WindowDelayCounts, type WindowDelay } from './window-delay-probe.js';

export { SeededRandom } from '../core/random.js';
export { OperatorStateHandle, type OperatorSnapshot } from '../core/state.js';
export type { UsageItem, UsageMeter } from '../core/usage-meter.js';
