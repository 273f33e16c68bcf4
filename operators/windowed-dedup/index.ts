export { DistinctCounter, type DistinctCounterOptions } from './distinct-counter.js';
export { MentionTable, type DedupWindow, type MentionSourceEvent, type ClusterMember, type OpenMention, type MentionTableOptions } from './mention-table.js';
export { EmittedPairs, parseEmittedPairs, type EmittedPair } from './emitted-pairs.js';
