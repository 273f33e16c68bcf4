export { SketchTable, type AlarmDirection, type SketchAlarm, type SketchCounts, type SketchLevel, type SketchTableOptions, type SketchVerdict } from './sketch-table.js';
export { alarmLevelFor, LEVEL_CORRECTION, LEVEL_CORRECTIONS, siegmundArl, siegmundLevel, targetArl } from './alarm-level.js';
export { FIELD_TRANSFORMS, transformValue, type FieldTransform } from './transforms.js';
