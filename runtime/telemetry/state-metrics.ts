/**
 * Operator state as metrics: what each assignment did to a stateful step's state (the handover
 * outcome), how many partition snapshots of other instances were merged, and how long the latest
 * restore took. Read at scrape time from {@link StepStates}' plain counts.
 */
import type { Registry } from 'prom-client';
import type { StepOutcomeCounts, StepStatesStats } from '../state/step-states.js';
import { registerCollected } from './prom-collector.js';

/** What the metrics read: StepStates satisfies it. */
export interface StateOutcomes {
  readonly stats: Readonly<StepStatesStats>;
  readonly outcomes: ReadonlyMap<string, Readonly<StepOutcomeCounts>>;
}

export function registerStateMetrics(registry: Registry, topology: string, states: StateOutcomes): void {
  registerCollected(registry, {
    name: 'signalpath_state_restores_total',
    help:
      "Assignments of partitions to a stateful step, by what happened to the step's state: restored (it held none and took the newest snapshot), " +
      'merged (it held state and merged the new partitions\' snapshots), kept (it held state and kept its own), none (no snapshot for those partitions).',
    type: 'counter',
    collect: () =>
      [...states.outcomes].flatMap(([step, counts]) =>
        (Object.keys(counts.actions) as (keyof StepOutcomeCounts['actions'])[]).map((action) => ({ labels: { topology, step, action }, value: counts.actions[action] })),
      ),
  });
  registerCollected(registry, {
    name: 'signalpath_state_snapshots_merged_total',
    help: "Partition snapshots written by other instances merged into a step's live state (operators whose state merges: windowedDedup's emitted pairs).",
    type: 'counter',
    collect: () => [...states.outcomes].map(([step, counts]) => ({ labels: { topology, step }, value: counts.snapshotsMerged })),
  });
  registerCollected(registry, {
    name: 'signalpath_state_restore_seconds',
    help: 'Duration of the latest state restore, every stateful step, changelog reads included (absent before the first).',
    type: 'gauge',
    collect: () => (states.stats.restores === 0 ? [] : [{ labels: { topology }, value: states.stats.lastRestoreMs / 1000 }]),
  });
}
