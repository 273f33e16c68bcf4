/** The enrich-model step: each record's model metadata from the registry (cached, pooled, breaker). */
import { identity } from 'rxjs';
import type { Sampled } from '../../../operators/adaptive-sample.js';
import { enrich, type Enriched } from '../../../operators/enrich.js';
import type { Envelope } from '../../../core/envelope.js';
import { withContext, type StepOperator } from '../../../runtime/topology.js';
import type { ScoredEvent } from '../probe.js';
import type { ModelMetadata } from '../registry-client.js';
import type { MonitorContext } from './context.js';

/** Looks every record's model up (flagging failures) and counts the records it delays past their dedup window. */
export function enrichStep(ctx: MonitorContext): StepOperator<Envelope<Sampled<ScoredEvent>>, Envelope<Enriched<Sampled<ScoredEvent>, ModelMetadata>>> {
  const { config, probe } = ctx;
  return withContext((context) => (source) => {
    const { enrichProbe, enrichDelay } = ctx;
    return source.pipe(enrich<Sampled<ScoredEvent>, ModelMetadata>({
      keyOf: (sampled) => sampled.record.event.model_id,
      lookup: ctx.lookup,
      step: context.stepName,
      mode: config.enrichMode,
      concurrency: config.enrichConcurrency,
      maxCacheEntries: config.enrichCacheEntries,
      ttlMs: config.enrichTtlMs,
      timeoutMs: config.enrichTimeoutMs,
      ...(config.enrichBreakerFailures === 0 ? {} : { circuitBreaker: { failureThreshold: config.enrichBreakerFailures, openMs: config.enrichBreakerOpenMs } }),
      onFailure: 'flag',
      counters: probe.enrich,
      meter: context.meter,
      random: ctx.random.jumped(),
      state: context.state,
    }),
    // Counting only: which records came out after their dedup window had closed, or failed.
    enrichProbe === undefined ? identity : enrichProbe.leave((envelope, delay) => enrichDelay?.left(envelope.value.record.record.event.event_id, delay, envelope.value.status === 'failed')));
  });
}
