/** The partition-by-model step: records spread over lanes keyed by model × segment (or model). */
import type { Sampled } from '../../../operators/adaptive-sample.js';
import type { Enriched } from '../../../operators/enrich.js';
import { keyedPartition } from '../../../operators/keyed-partition.js';
import { withValue, type Envelope } from '../../../core/envelope.js';
import { withContext, type StepOperator } from '../../../runtime/topology.js';
import type { ModelMonitorConfig } from '../config.js';
import type { MonitoredEvent, ScoredEvent } from '../probe.js';
import type { ModelMetadata } from '../registry-client.js';
import type { MonitorContext } from './context.js';

type EnrichedEvent = Enriched<Sampled<ScoredEvent>, ModelMetadata>;

/** How a record's enrichment status reads in telemetry: did it wait for the registry or not. */
const CACHE_NOTE: Readonly<Record<Enriched<unknown, unknown>['status'], string>> = { hit: 'hit', stale: 'stale-hit', fetched: 'miss', 'not-found': 'not-found', failed: 'miss-failed' };

/**
 * The key that keeps a record's lane, and so the only order the lanes promise to keep.
 *
 * Order per model × segment is all that follows needs: the detectors keep state per model × segment ×
 * field (parallelDetect calls them in arrival order, synchronous detectors keep it); apply-thresholds
 * is per record; backgroundRate counts per model × segment × event-time window, whatever the order;
 * dedup groups by event-time window and closes windows by watermark (held back between sample and
 * dedup by hold-watermark/release-watermark), not by arrival order. The one state wider than a
 * segment is the fallback detector per model that scores a segment while it warms up: it learns every
 * record of the model and relies on no order across segments. Its input is an interleaving of the
 * model's segments that Kafka partitions, source batches and the sampler's epochs already make
 * arbitrary; lanes by model × segment keep each segment's records in order within it and may only
 * interleave segments differently, which is as valid a baseline as any. 'model' keeps the whole
 * model in order, at the price of a hot model loading one lane. The step keeps its stable name
 * `partition-by-model` (metric labels, changelog keys) whichever key is chosen.
 */
export function laneKeyOf(laneKey: ModelMonitorConfig['laneKey']): (envelope: Envelope<EnrichedEvent>) => string {
  if (laneKey === 'model') return (envelope) => envelope.value.record.record.event.model_id;
  // Ids holding a NUL could make two pairs share a key: that only puts both on one lane, more order, not less.
  return (envelope) => `${envelope.value.record.record.event.model_id}\u0000${envelope.value.record.record.event.segment}`;
}

/** The lanes' work: counts the sampled record, remembers its model's metadata and arrival, and makes it a {@link MonitoredEvent}. */
function monitored(ctx: MonitorContext, envelope: Envelope<EnrichedEvent>): Envelope<MonitoredEvent> {
  const { probe } = ctx;
  const { record: sampled, enrichment, status } = envelope.value;
  const event = sampled.record.event;
  probe.sampled++;
  probe.sampledByArm.set(sampled.strategy, (probe.sampledByArm.get(sampled.strategy) ?? 0) + 1);
  if (enrichment !== undefined) ctx.metadataByModel.set(event.model_id, { owner: enrichment.owner, thresholds: enrichment.thresholds });
  ctx.arrivals.set(event.event_id, { arrivedAtMs: Date.now(), ts: event.ts });
  const value: MonitoredEvent = {
    ...event,
    monitor: {
      arm: sampled.strategy,
      inclusionWeight: sampled.inclusionWeight,
      owner: enrichment?.owner,
      thresholds: enrichment?.thresholds,
      enrichment: status,
      sketchAlarms: sampled.record.evidence ?? [],
    },
  };
  return withValue(envelope, value);
}

/** Spreads records over the lanes (consistent hashing with bounded loads, or modulo; work stealing). */
export function partitionStep(ctx: MonitorContext): StepOperator<Envelope<EnrichedEvent>, Envelope<MonitoredEvent>> {
  const { config, probe } = ctx;
  return withContext((context) => keyedPartition<EnrichedEvent, MonitoredEvent>({
    lanes: config.lanes,
    routing: config.routing,
    stealing: config.stealing,
    // The lanes' work is fast and synchronous, so their queues stay empty and neither the
    // active-key bound nor stealing ever acts: only a load measured in finished records can
    // spread a hot key (keyed-partition.ts, boundedLoadMeasure).
    ...(config.routing === 'consistent' && config.boundedLoadEpsilon > 0 ? { boundedLoadEpsilon: config.boundedLoadEpsilon, boundedLoadMeasure: 'recent-records' as const } : {}),
    keyOf: laneKeyOf(config.laneKey),
    probe: probe.partition,
    state: context.state,
    work: (envelope, lane) => {
      const { status, retries } = envelope.value;
      // For tail-hotspot spans: which lane, whether enrichment hit the cache, its retries.
      context.annotate?.(envelope, { lane, cache: CACHE_NOTE[status], enrich_retries: retries ?? 0 });
      return monitored(ctx, envelope);
    },
  }));
}
