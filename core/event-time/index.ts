/** Event time shared by all operators: windows/epochs, the source watermark, late records. */
export {
  type EventTimeWindow,
  type TumblingWindowSpec,
  type HoppingWindowSpec,
  assertWindowSizeMs,
  windowStartMs,
  tumblingWindowFor,
  hoppingWindowsFor,
  epochIndex,
  epochWindow,
  isWindowComplete,
  isLateForWindow,
} from './windows.js';
export {
  type PartitionId,
  type WatermarkTrackerOptions,
  type WatermarkObservation,
  type WatermarkTrackerSnapshot,
  WatermarkTracker,
} from './watermark-tracker.js';
export { type LateRecordPolicy, assertLateRecordPolicy, routeLateRecord, OperatorWatermark } from './late-records.js';
