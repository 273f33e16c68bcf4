/**
 * What model-monitor reports at the end of a run (the runner writes it into the run summary that
 * `signalpath evaluate --summary` and `signalpath lab` read): per-lane load, the sampler's arms and
 * the bandit's allocations over time, enrichment and dedup counters, the sketch's levels and what
 * labels did to them. Plain JSON.
 */
import { bucketPercentile } from '../../runtime/telemetry/tail-recovery.js';
import type { ModelMonitorProbe } from './probe.js';

/** Allocation points kept in the report: enough for a chart, bounded for a long run. */
const MAX_ALLOCATION_POINTS = 500;

export function modelMonitorReport(probe: ModelMonitorProbe): Record<string, unknown> {
  const lanes = probe.partition.lanes();
  const step = Math.max(1, Math.ceil(probe.allocations.length / MAX_ALLOCATION_POINTS));
  const allocations = probe.allocations
    .filter((_, i) => i % step === 0)
    .map((a) => ({ epoch_start_ms: a.epochStartMs, budget: a.budgetRecords, seen: a.seenRecords, emitted_by_arm: Object.fromEntries(a.arms.map((arm) => [arm.arm, arm.emitted])) }));
  return {
    validated: probe.validated,
    sampled: probe.sampled,
    sampled_by_arm: Object.fromEntries(probe.sampledByArm),
    findings_by_arm: Object.fromEntries(probe.findingsByArm),
    mentions: probe.mentions,
    reviewed: probe.reviewed,
    lanes: lanes.map((lane) => ({ lane: lane.lane, records: lane.records, busy_ms: lane.busyMs, stolen_in: lane.stolenIn, stolen_out: lane.stolenOut })),
    allocations,
    enrich: {
      enabled: probe.enrichmentEnabled,
      lookups: probe.enrich.lookups,
      not_enriched: probe.notEnriched,
      hits: probe.enrich.hits,
      stale_hits: probe.enrich.staleHits,
      misses: probe.enrich.misses,
      retries: probe.enrich.retries,
      timeouts: probe.enrich.timeouts,
      failures: probe.enrich.failures,
      lookup_latency_mean_ms: probe.enrich.lookupLatencyMeanMs,
      lookup_latency_max_ms: probe.enrich.lookupLatencyMaxMs,
    },
    dedup: { ...probe.dedup },
    // The sketch's levels as labels left them (recalibration.ts): per field, and per model × field (those in use first).
    recalibration: recalibrationReport(probe),
    // What enrichment delayed past its dedup window (event time) or failed, and the mentions they reached (enrich-delay.ts).
    enrich_delay: {
      delayed_past_window: probe.enrichDelay.delayedPastWindow,
      late_before_enrich: probe.enrichDelay.lateBeforeEnrich,
      failed: probe.enrichDelay.failed,
      affected_mentions: probe.enrichDelay.affectedMentions,
      mentions_with_delayed_evidence: probe.enrichDelay.mentionsWithDelayedEvidence,
      mentions_with_failed_evidence: probe.enrichDelay.mentionsWithFailedEvidence,
    },
  };
}

function recalibrationReport(probe: ModelMonitorProbe): Record<string, unknown> {
  const { fields, models } = probe.recalibration.report(50);
  const level = probe.sketch.level;
  const cell = (c: (typeof fields)[number]): Record<string, unknown> => ({
    field: c.field,
    ...(c.model === undefined ? {} : { model: c.model, in_use: c.inUse }),
    scale: c.scale,
    level: level * c.scale,
    labels: c.labels,
    true_positives: c.truePositives,
    false_positives: c.falsePositives,
    posterior_precision: c.posteriorPrecision,
  });
  const join = probe.labelJoin.counts;
  return {
    enabled: probe.recalibrate,
    budget_level: level,
    fields: fields.map(cell),
    models: models.map(cell),
    model_evictions: probe.recalibration.modelEvictions,
    // Per lane (fast: copied to mentions.review): labels, labelled precision, feedback latency (emitted → label received, this process).
    lanes: Object.fromEntries(
      Object.entries(probe.labelJoin.lanes).map(([lane, feedback]) => {
        const p50 = bucketPercentile(feedback.latency.boundsMs, feedback.latency.counts, 50);
        const p90 = bucketPercentile(feedback.latency.boundsMs, feedback.latency.counts, 90);
        return [lane, { labels: feedback.latency.count, true_positives: feedback.truePositives, false_positives: feedback.falsePositives, precision: feedback.precision(), feedback_latency_p50_s: p50 === null ? null : p50 / 1000, feedback_latency_p90_s: p90 === null ? null : p90 / 1000 }];
      }),
    ),
    label_join: {
      mentions: join.mentions,
      awaiting: probe.labelJoin.awaiting,
      awaiting_evicted: join.awaitingEvicted,
      true_positives: join.truePositives,
      false_positives: join.falsePositives,
      unsure: join.unsure,
      duplicates: join.duplicates,
      relabels: join.relabels,
      not_recalibrated: join.notRecalibrated,
      early: join.early,
      early_joined: join.earlyJoined,
      early_evicted: join.earlyEvicted,
      reemitted: join.reemitted,
    },
  };
}
