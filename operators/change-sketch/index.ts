export { SketchTable, type AlarmDirection, type LevelScales, type SketchAlarm, type SketchCounts, type SketchLevel, type SketchTableOptions, type SketchVerdict } from './sketch-table.js';
export { alarmLevelFor, NULL_STREAM_FITS, siegmundArl, siegmundLevel, targetArl } from './alarm-level.js';
export { FIELD_TRANSFORMS, transformValue, type FieldTransform } from './transforms.js';
