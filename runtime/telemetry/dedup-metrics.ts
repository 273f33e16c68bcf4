/**
 * A windowedDedup step's counters as metrics, for a topology's `gauges` (the operator imports no
 * metrics library; the runner adds the `topology` label):
 *
 * ```ts
 * gauges: [...dedupMetrics('dedup', counters)],   // counters: the DedupCounters passed to windowedDedup
 * ```
 *
 * `signalpath_dedup_already_emitted_total` counts records settled without a second mention because a
 * previous owner of their partition had already emitted their (cluster, window) — the handover of
 * emitted pairs at work (operators/windowed-dedup/emitted-pairs.ts). The counters are part of the step's
 * snapshot, so after a restart the count continues from the restored one.
 */
import type { TopologyGauge } from '../topology.js';

/** What the metrics read of a windowedDedup step's counters (its DedupCounters has this shape). */
export interface DedupMetricsSource {
  readonly alreadyEmitted: number;
}

export function dedupMetrics(step: string, counters: DedupMetricsSource): TopologyGauge[] {
  return [
    {
      name: 'signalpath_dedup_already_emitted_total',
      help: 'Records a windowedDedup step settled as already emitted: their (cluster, window) was emitted by a previous owner of their partition (restored or merged state), so no second mention.',
      type: 'counter',
      read: () => [{ labels: { step }, value: counters.alreadyEmitted }],
    },
  ];
}
