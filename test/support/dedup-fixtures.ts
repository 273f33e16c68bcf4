/** What the windowedDedup tests feed it and restore into it, in one place. */
import type { OperatorSnapshot } from '../../core/state.js';
import type { EmittedPair } from '../../operators/windowed-dedup/emitted-pairs.js';

/** The fields of an inference event that windowedDedup groups by. */
export interface DedupTestEvent {
  readonly event_id: string;
  readonly model_id: string;
  readonly model_version: string;
  readonly tenant: string;
  readonly segment: string;
}

/** A windowedDedup snapshot (version 2): the given emitted pairs, and `records` in otherwise zero counters. */
export function dedupSnapshot(emitted: readonly EmittedPair[], records = 0): OperatorSnapshot {
  return {
    operator: 'windowedDedup',
    version: 2,
    counters: { records, recordsWithoutFindings: 0, lateRecords: 0, mentions: 0, earlyMentions: 0, alreadyEmitted: 0 },
    emitted,
  };
}
