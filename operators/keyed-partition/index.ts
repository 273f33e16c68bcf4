export { hashKey, HashRing, staticLaneOf } from './hash-ring.js';
export { LaneTable, type LaneTableOptions, type LaneStats, type LaneCounters } from './lane-table.js';
export { HotKeyTracker, type HotKey, type HotKeyTrackerSnapshot } from './hot-keys.js';
