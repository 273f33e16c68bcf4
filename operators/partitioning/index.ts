export { hashKey, HashRing, staticLaneOf } from './hash-ring.js';
export { LaneTable, type LaneTableOptions, type LaneStats } from './lane-table.js';
export { HotKeyTracker, type HotKey } from './hot-keys.js';
