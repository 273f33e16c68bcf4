/**
 * model-monitor — the reference topology: the signal path the project exists for.
 *
 * ```
 * inference-events → validate → preliminary-score → sample (bandit over uniform · stratified · adaptive)
 *   → enrich-model (registry over fetch, LRU cache, async pool) → partition-by-model (lanes keyed by
 *   model × segment: consistent hashing with loads bounded by recent records, + work stealing)
 *   → detect (per model × segment × field) → apply-thresholds (the registry's, per model)
 *   → dedup (cluster-aware event-time windows) → annotate → review-lane → mentions (+ mentions.review)
 * ```
 *
 * The preliminary score is a cheap per-key |z| that tells the adaptive sampler which records look
 * interesting; the detectors see only what the sampler lets through. The bandit learns which sampling
 * arm yields findings per record sampled (feedback from apply-thresholds). Records a step cannot handle
 * (malformed values, a detector that throws) go to `model-monitor.dlq` through the step context;
 * a registry that fails flags the record and the detectors fall back to the default threshold.
 *
 * `createModelMonitor(config)` builds it with a {@link ModelMonitorProbe} (the lab and the demo read
 * counters from it); `index.ts` builds it from the environment for `signalpath run model-monitor`.
 */
import { defineTopology, type Topology } from '../../runtime/topology.js';
import { InferenceEventContract, MentionContract, type InferenceEvent } from '../../schemas/index.js';
import type { ModelMonitorConfig } from './config.js';
import { kpiSources, monitorGauges, type ModelMonitorExtras } from './metrics.js';
import { ModelMonitorProbe } from './probe.js';
import { createMonitorContext } from './steps/context.js';
import { applyThresholdsStep, detectStep } from './steps/detect.js';
import { enrichStep } from './steps/enrich.js';
import { annotateStep, dedupStep, labelJoinStep, minEvidenceStep, reviewStep } from './steps/mentions.js';
import { partitionStep } from './steps/partition.js';
import { sampleStep } from './steps/sample.js';
import { scoreStep, scoreStepName } from './steps/score.js';
import { withShadowJoin, withShadowTap } from './steps/shadow.js';
import { validateStep } from './steps/validate.js';
import { holdWatermarkStep, releaseWatermarkStep } from './steps/watermark.js';

export { ModelMonitorProbe, type MonitoredEvent, type ScoredEvent } from './probe.js';
export type { ModelMonitorExtras } from './metrics.js';
export { invalidReason } from './steps/validate.js';

/**
 * Builds model-monitor from its configuration, with the probe that counts what it does. Each step is
 * built by its own function in `steps/` from one shared context; step names key state snapshots,
 * changelogs and metric labels, so they never change.
 */
export function createModelMonitor(config: ModelMonitorConfig, extras: ModelMonitorExtras = {}): { topology: Topology<InferenceEvent>; probe: ModelMonitorProbe } {
  const probe = new ModelMonitorProbe();
  const ctx = createMonitorContext(config, probe);
  const topology = defineTopology<InferenceEvent>({
    name: 'model-monitor',
    description: 'Samples (bandit over uniform, stratified, adaptive), enriches from the model registry, spreads records over lanes (order kept per model × segment), detects per model × segment × field, deduplicates into Mentions, and copies the borderline ones to the review lane.',
    kpis: kpiSources(config, probe, extras),
    input: { topic: 'inference-events', contract: InferenceEventContract, eventTime: (event) => event.ts },
    outputs: {
      mentions: { topic: 'mentions', contract: MentionContract },
      review: { topic: 'mentions.review', contract: MentionContract },
      ...(config.shadowDetectors.length === 0 ? {} : { shadow: { topic: 'mentions.shadow', contract: MentionContract } }),
    },
    gauges: monitorGauges(probe),
    steps: (input) => {
      const validated = withShadowTap(ctx, input.step('validate', validateStep(ctx)));
      const routed = validated
        .step(scoreStepName(ctx), scoreStep(ctx))
        .step('sample', sampleStep(ctx))
        .step('hold-watermark', holdWatermarkStep(ctx))
        .step('enrich-model', enrichStep(ctx))
        .step('partition-by-model', partitionStep(ctx))
        .step('detect', detectStep(ctx))
        .step('apply-thresholds', applyThresholdsStep(ctx))
        .step('release-watermark', releaseWatermarkStep(ctx))
        .step('dedup', dedupStep(ctx))
        .step('min-evidence', minEvidenceStep(ctx))
        .step('annotate', annotateStep(ctx))
        // Every mention waits here for its label (keyed by mention_id, in the step's changelog).
        .step('label-join', labelJoinStep(ctx))
        .step('review-lane', reviewStep(ctx));
      return withShadowJoin(ctx, routed);
    },
  });
  return { topology, probe };
}
