/**
 * The topology README.md shows under "Writing a topology", kept here so that it compiles and runs:
 * test/readme/readme.spec.ts checks that the README's code blocks are verbatim regions of this file
 * and of slow-inferences.spec.ts, which tests it with the topology test driver.
 */
// #region readme-topology
import { defineTopology, filterRecords, mapRecords, toOutput } from '../../runtime/topology.js';
import { InferenceEventContract, MentionContract, type InferenceEvent, type Mention } from '../../schemas/index.js';
import type { Envelope } from '../../core/envelope.js';

export const SLOW_MS = 2_000;

export default defineTopology({
  name: 'slow-inferences',
  description: 'Every inference slower than SLOW_MS becomes a Mention.',
  input: { topic: 'inference-events', contract: InferenceEventContract, eventTime: (event) => event.ts },
  outputs: { mentions: { topic: 'slow-inferences.mentions', contract: MentionContract } },
  steps: (input) =>
    input
      .step('check', mapRecords(checked))                                        // a throw dead-letters the record, naming the step
      .step('slow-only', filterRecords((event) => event.latency_ms > SLOW_MS))   // the others settle as dropped
      .step('to-mention', mapRecords(toMention))
      .step('route', toOutput('mentions')),                                      // settled once the broker acknowledges it
});

function checked(event: InferenceEvent): InferenceEvent {
  if (!(event.confidence >= 0 && event.confidence <= 1)) throw new RangeError(`confidence ${event.confidence} is outside [0, 1]`);
  return event;
}
// #endregion readme-topology

function toMention(event: InferenceEvent, envelope: Envelope<InferenceEvent>): Mention {
  return {
    mention_id: `slow-inferences:${envelope.origin.partition}:${envelope.origin.offset}`,
    emitted_at: event.ts,
    window_start: event.ts,
    window_end: event.ts,
    model_id: event.model_id,
    model_version: event.model_version,
    tenant: event.tenant,
    segment: event.segment,
    field: 'latency_ms',
    direction: 'HIGH',
    detector: 'fixed-threshold',
    score: event.latency_ms / SLOW_MS,
    cluster_id: `${event.model_id}/${event.segment}/latency_ms`,
    event_count: 1,
    evidence_event_ids: [event.event_id],
    shadow: false,
    attributes: {},
  };
}
