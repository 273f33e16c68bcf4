/**
 * latency-watch — the smallest useful monitor, and the example `npm start` runs: it flags inferences
 * whose latency is far above what is normal for their model and turns each into a Mention.
 *
 * "Normal" is a per-model exponentially weighted mean and deviation of latency, learned from the
 * stream (state per model, bounded by the number of models). The richer reference topology,
 * model-monitor, samples, enriches, partitions and deduplicates; this one shows the runtime's
 * contract in a few lines: a dropped record settles as dropped, a mention settles its input when the
 * broker acknowledges it, a record that breaks a step goes to the dead-letter topic.
 */
import { InferenceEventContract, MentionContract, type InferenceEvent, type Mention } from '../../schemas/index.js';
import { defer, mergeMap, type OperatorFunction } from 'rxjs';
import { defineTopology, mapRecords, toOutput } from '../../runtime/topology.js';
import { dropRecord, withValue, type Envelope } from '../../core/envelope.js';

/** How many deviations above the model's mean latency counts as anomalous. */
const THRESHOLD_SIGMAS = 4;
/** Weight of each new observation in the running mean and variance. */
const ALPHA = 0.01;
/** Observations per model before it may be flagged (the baseline warms up first). */
const WARMUP = 200;
const MAX_MODELS = 100_000;

interface Baseline {
  mean: number;
  variance: number;
  seen: number;
}

/** A slow inference, with how many deviations above its model's normal it was. */
interface SlowInference {
  readonly event: InferenceEvent;
  readonly sigmas: number;
}

/**
 * The per-model baselines live in the step, created anew for each subscription, so every run (and
 * every test) starts clean. Fast inferences settle as dropped; slow ones go on with their score.
 */
function slowInferences(): OperatorFunction<Envelope<InferenceEvent>, Envelope<SlowInference>> {
  return (source) =>
    defer(() => {
      const baselines = new Map<string, Baseline>();
      return source.pipe(
        mergeMap((envelope) => {
          const event = envelope.value;
          let baseline = baselines.get(event.model_id);
          if (baseline === undefined) {
            // Bounded: forget the oldest model when too many are tracked.
            if (baselines.size >= MAX_MODELS) baselines.delete(baselines.keys().next().value!);
            baseline = { mean: event.latency_ms, variance: 0, seen: 0 };
            baselines.set(event.model_id, baseline);
          }
          const deviation = event.latency_ms - baseline.mean;
          const sigmas = deviation / Math.max(1e-9, Math.sqrt(baseline.variance));
          const slow = baseline.seen >= WARMUP && sigmas > THRESHOLD_SIGMAS;
          // Learn from normal traffic only, so an incident does not teach the baseline that it is normal.
          if (!slow) {
            baseline.mean += ALPHA * deviation;
            baseline.variance = (1 - ALPHA) * (baseline.variance + ALPHA * deviation * deviation);
            baseline.seen++;
            dropRecord(envelope);
            return [];
          }
          return [withValue(envelope, { event, sigmas })];
        }),
      );
    });
}

function toMention({ event, sigmas }: SlowInference, envelope: Envelope<SlowInference>): Mention {
  return {
    mention_id: `latency-watch:${envelope.origin.partition}:${envelope.origin.offset}`,
    emitted_at: Date.now(),
    window_start: event.ts,
    window_end: event.ts,
    model_id: event.model_id,
    model_version: event.model_version,
    tenant: event.tenant,
    segment: event.segment,
    field: 'latency_ms',
    direction: 'HIGH',
    detector: 'ewma-sigma',
    score: sigmas,
    cluster_id: `${event.model_id}/${event.segment}/latency_ms`,
    event_count: 1,
    evidence_event_ids: [event.event_id],
    shadow: false,
    attributes: {},
  };
}

export default defineTopology({
  name: 'latency-watch',
  description: 'Flags inferences whose latency is far above their model’s learned normal, as Mentions.',
  input: { topic: 'inference-events', contract: InferenceEventContract, eventTime: (event) => event.ts },
  outputs: { mentions: { topic: 'mentions', contract: MentionContract } },
  steps: (input) =>
    input
      .step('slow-only', slowInferences())
      .step('to-mention', mapRecords(toMention))
      .step('route', toOutput('mentions')),
});
