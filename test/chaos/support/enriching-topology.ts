/**
 * A topology that enriches every event from the model registry (no cache, so every record needs the
 * service) through `enrich` with a circuit breaker, and writes the event with its enrichment status
 * in `attributes.enrichment` — 'fetched', or 'failed' when the lookup failed or was not attempted.
 * It exports the breaker's state as `signalpath_enrich_circuit_state` (0 closed, 1 half-open, 2 open).
 */
import { map } from 'rxjs';
import { InferenceEventContract, type InferenceEvent } from '../../../schemas/index.js';
import { defineTopology, toOutput, withContext } from '../../../runtime/topology.js';
import { withValue, type Envelope } from '../../../core/envelope.js';
import { CIRCUIT_STATE_VALUE, enrich, type CircuitState, type EnrichCounters, type Enriched } from '../../../operators/enrich.js';
import { registryLookup, type ModelMetadata } from '../../../topologies/model-monitor/registry-client.js';

export interface EnrichingOptions {
  readonly registryUrl: string;
  readonly counters: EnrichCounters;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly failureThreshold: number;
  readonly openMs: number;
  readonly onCircuitStateChange?: (state: CircuitState) => void;
  /** Told each record's enrichment status as it leaves the step. */
  readonly onStatus?: (status: Enriched<InferenceEvent, ModelMetadata>['status']) => void;
}

export function enrichingTopology(options: EnrichingOptions) {
  return defineTopology({
    name: 'enriching',
    description: 'Test topology: every event enriched from the model registry, with a circuit breaker.',
    input: { topic: 'enriching-in', contract: InferenceEventContract, eventTime: (e) => e.ts },
    outputs: { output: { topic: 'enriching-out', contract: InferenceEventContract } },
    gauges: [
      {
        name: 'signalpath_enrich_circuit_state',
        help: "The enrich step's circuit breaker: 0 closed, 1 half-open, 2 open.",
        read: () => [{ labels: { step: 'enrich-model' }, value: CIRCUIT_STATE_VALUE[options.counters.circuitState] }],
      },
    ],
    steps: (input) =>
      input
        .step(
          'enrich-model',
          withContext((context) =>
            enrich<InferenceEvent, ModelMetadata>({
              keyOf: (event) => event.model_id,
              lookup: registryLookup(options.registryUrl),
              step: context.stepName,
              maxCacheEntries: 0,
              concurrency: 16,
              timeoutMs: options.timeoutMs,
              retries: options.retries,
              retryBaseDelayMs: 20,
              circuitBreaker: { failureThreshold: options.failureThreshold, openMs: options.openMs, ...(options.onCircuitStateChange ? { onStateChange: options.onCircuitStateChange } : {}) },
              counters: options.counters,
            }),
          ),
        )
        .step(
          'flag',
          map((envelope: Envelope<Enriched<InferenceEvent, ModelMetadata>>) => {
            const { record, status, enrichment } = envelope.value;
            options.onStatus?.(status);
            return withValue(envelope, { ...record, attributes: { ...record.attributes, enrichment: status, owner: enrichment?.owner ?? '' } });
          }),
        )
        .step('route', toOutput('output')),
  });
}
