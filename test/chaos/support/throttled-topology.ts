/**
 * A topology that processes at most about `recordsPerSecond` (records wait 10 ms each, that many
 * at a time), whatever the machine: the overload scenario needs a processing rate it can exceed 50×.
 */
import { delay, mergeMap, of } from 'rxjs';
import { InferenceEventContract, type InferenceEvent } from '../../../schemas/index.js';
import { defineTopology, toOutput } from '../../../runtime/topology.js';
import type { Envelope } from '../../../core/envelope.js';

export function throttledTopology(recordsPerSecond: number) {
  const atOnce = Math.max(1, Math.round(recordsPerSecond / 100));
  return defineTopology({
    name: 'throttled',
    description: `Test topology: at most ~${recordsPerSecond} records/s.`,
    input: { topic: 'throttled-in', contract: InferenceEventContract, eventTime: (e) => e.ts },
    outputs: { output: { topic: 'throttled-out', contract: InferenceEventContract } },
    steps: (input) =>
      input
        .step('throttle', mergeMap((envelope: Envelope<InferenceEvent>) => of(envelope).pipe(delay(10)), atOnce))
        .step('route', toOutput('output')),
  });
}
