/** The validate step: records model-monitor cannot monitor go to the dead-letter topic. */
import { mergeMap } from 'rxjs';
import type { Envelope } from '../../../core/envelope.js';
import { withContext, type StepOperator } from '../../../runtime/topology.js';
import type { InferenceEvent } from '../../../schemas/index.js';
import type { MonitorContext } from './context.js';

const NUMERIC_FIELDS = ['prediction', 'confidence', 'latency_ms', 'input_tokens', 'output_tokens'] as const;

/** Why a record cannot be monitored, or undefined when it can. */
export function invalidReason(event: InferenceEvent): string | undefined {
  if (typeof event.model_id !== 'string' || event.model_id === '') return 'model_id is empty';
  if (typeof event.segment !== 'string' || event.segment === '') return 'segment is empty';
  for (const field of NUMERIC_FIELDS) if (!Number.isFinite(event[field])) return `${field} is not a finite number (${event[field]})`;
  if (!Number.isFinite(event.ts)) return 'ts is not a finite number';
  if (event.features.some((x) => !Number.isFinite(x))) return 'features hold a non-finite value';
  return undefined;
}

/** Passes the records that can be monitored (counted), dead-letters the rest with the reason. */
export function validateStep({ probe }: MonitorContext): StepOperator<Envelope<InferenceEvent>, Envelope<InferenceEvent>> {
  return withContext((context) =>
    mergeMap((envelope: Envelope<InferenceEvent>) => {
      const reason = invalidReason(envelope.value);
      if (reason !== undefined) {
        context.deadLetter(envelope, new TypeError(`cannot monitor event ${envelope.value.event_id}: ${reason}`));
        return [];
      }
      probe.validated++;
      return [envelope];
    }),
  );
}
