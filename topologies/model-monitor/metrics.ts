/**
 * model-monitor's metrics: where the runtime reads its KPIs ({@link kpiSources}) and the gauges it
 * exports beside the runner's own (enrichment, dedup, recalibration and the label join).
 */
import { CIRCUIT_STATE_VALUE } from '../../operators/enrich.js';
import type { TopologyGauge } from '../../runtime/topology.js';
import type { KpiSources, SpendMeter } from '../../runtime/telemetry/kpis.js';
import { dedupMetrics } from '../../runtime/telemetry/dedup-metrics.js';
import { bucketPercentile } from '../../runtime/telemetry/tail-recovery.js';
import type { Mention } from '../../schemas/index.js';
import type { ModelMonitorConfig } from './config.js';
import type { LaneFeedback } from './label-join.js';
import type { ModelMonitorProbe } from './probe.js';
import type { LevelRecalibrator } from './recalibration.js';
import { isShadowMentionId } from './shadow-path.js';

/** What a caller may add to the configuration. */
export interface ModelMonitorExtras {
  /** The cost meter behind the spend KPIs (mentions per $1k); absent: those metrics are not exported. */
  readonly spend?: SpendMeter;
}

/** Where the runtime reads model-monitor's KPIs: its mention output, labels, enrich, lanes and bandit. */
export function kpiSources(config: ModelMonitorConfig, probe: ModelMonitorProbe, extras: ModelMonitorExtras): KpiSources {
  return {
    mentionOutputs: ['mentions'],
    mentionOf: (value) => ({ id: (value as Mention).mention_id, score: (value as Mention).score }),
    ...(config.labelsTopic ? { labelsTopic: config.labelsTopic } : {}),
    // Every label also meets its mention in the label-join step's state and may move a level.
    // A shadow mention's label is for shadow-report only: it never moves a live level.
    onLabel: (mentionId, verdict, receivedAtMs) => void (isShadowMentionId(mentionId) ? undefined : probe.labelJoin.label(mentionId, verdict, receivedAtMs)),
    ...(extras.spend === undefined ? {} : { spend: extras.spend }),
    cache: () => ({ hits: probe.enrich.hits + probe.enrich.staleHits, misses: probe.enrich.misses }),
    lanes: () => probe.partition.lanes().map((lane) => ({ lane: lane.lane, records: lane.records, busyMs: lane.busyMs, queued: lane.queued })),
    ...(config.sampling !== 'bandit'
      ? {}
      : {
          budget: () => {
            const latest = probe.allocations[probe.allocations.length - 1];
            return latest === undefined ? [] : latest.arms.map((arm) => ({ arm: arm.arm, share: arm.share, records: probe.chosenByArm.get(arm.arm) ?? 0 }));
          },
        }),
  };
}

/** Every gauge model-monitor exports: enrichment's, dedup's and the recalibration's. */
export function monitorGauges(probe: ModelMonitorProbe): TopologyGauge[] {
  return [...enrichGauges(probe), ...dedupMetrics('dedup', probe.dedup), ...recalibrationGauges(probe, () => probe.sketch.level)];
}

/** The enrich step's circuit breaker and whether enrichment is on. */
function enrichGauges(probe: ModelMonitorProbe): TopologyGauge[] {
  return [
    {
      name: 'signalpath_enrich_circuit_state',
      help: "The enrich step's circuit breaker: 0 closed, 1 half-open (trial lookups), 2 open (lookups not attempted, records flagged).",
      read: () => [{ labels: { step: 'enrich-model' }, value: CIRCUIT_STATE_VALUE[probe.enrich.circuitState] }],
    },
    {
      name: 'signalpath_enrich_enabled',
      help: 'Whether the enrich step looks models up (1) or is off because no model registry is configured (0).',
      read: () => [{ labels: { step: 'enrich-model' }, value: probe.enrichmentEnabled ? 1 : 0 }],
    },
    {
      name: 'signalpath_enrich_circuit_opens',
      help: "Times the enrich step's circuit breaker opened in this run.",
      read: () => [{ labels: { step: 'enrich-model' }, value: probe.enrich.circuitOpens }],
    },
  ];
}

/** The recalibration as metrics: level factors and levels per field (and model × field in use), the label join's counters. */
function recalibrationGauges(probe: ModelMonitorProbe, level: () => number): TopologyGauge[] {
  const cells = (): ReturnType<LevelRecalibrator['report']> => probe.recalibration.report(100);
  const lanes = (): [string, LaneFeedback][] => Object.entries(probe.labelJoin.lanes);
  return [
    {
      name: 'signalpath_sketch_level_scale',
      help: "Factor on the sketch's budget-derived level, per field (model=\"*\") and per model × field whose own factor is in use; labels move it (MODEL_MONITOR_RECALIBRATE).",
      read: () => {
        const { fields, models } = cells();
        return [...fields.map((c) => ({ labels: { field: c.field, model: '*' }, value: c.scale })), ...models.filter((c) => c.inUse).map((c) => ({ labels: { field: c.field, model: c.model! }, value: c.scale }))];
      },
    },
    {
      name: 'signalpath_sketch_level',
      help: "The sketch's CUSUM level per field: the budget-derived h × the field's factor.",
      read: () => cells().fields.map((c) => ({ labels: { field: c.field }, value: level() * c.scale })),
    },
    {
      name: 'signalpath_recalibration_precision',
      help: 'Posterior mean precision of the sketch mentions at the current level, per field (Beta, prior at the target precision, older labels fading).',
      read: () => cells().fields.map((c) => ({ labels: { field: c.field }, value: c.posteriorPrecision })),
    },
    {
      name: 'signalpath_label_join_labels_total',
      type: 'counter',
      help: 'Labels by what the label join did with them: applied (true/false positive), unsure, duplicate, relabel, not-recalibrated (no sketch alarm in the mention), early (came before the mention).',
      read: () => {
        const c = probe.labelJoin.counts;
        const outcome = (name: string, value: number) => ({ labels: { outcome: name }, value });
        return [outcome('true-positive', c.truePositives), outcome('false-positive', c.falsePositives), outcome('unsure', c.unsure), outcome('duplicate', c.duplicates), outcome('relabel', c.relabels), outcome('not-recalibrated', c.notRecalibrated), outcome('early', c.early)];
      },
    },
    {
      name: 'signalpath_label_join_feedback_latency_p50_seconds',
      help: 'Feedback-loop latency per lane (fast: copied to mentions.review; slow: the rest): median of mention emitted → its first true/false-positive label received, this process.',
      read: () => lanes().flatMap(([lane, feedback]) => {
        const p50 = bucketPercentile(feedback.latency.boundsMs, feedback.latency.counts, 50);
        return p50 === null ? [] : [{ labels: { lane }, value: p50 / 1000 }];
      }),
    },
    {
      name: 'signalpath_label_join_precision',
      help: 'Labelled precision per lane: true / (true + false positive) labels of the mentions of that lane, this process.',
      read: () => lanes().flatMap(([lane, feedback]) => {
        const precision = feedback.precision();
        return precision === null ? [] : [{ labels: { lane }, value: precision }];
      }),
    },
    {
      name: 'signalpath_label_join_awaiting',
      help: 'Mentions waiting for a label now (bounded by MODEL_MONITOR_LABEL_JOIN_MAX_AWAITING).',
      read: () => [{ labels: {}, value: probe.labelJoin.awaiting }],
    },
    {
      name: 'signalpath_label_join_evicted_total',
      type: 'counter',
      help: 'Mentions dropped unlabelled because too many were waiting.',
      read: () => [{ labels: {}, value: probe.labelJoin.counts.awaitingEvicted }],
    },
  ];
}
