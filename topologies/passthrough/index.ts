/**
 * passthrough — the runtime's own cost: decode every InferenceEvent, re-encode it, produce it, and
 * commit settled offsets. `npm run bench:e2e` measures it against the client's consume-only rate.
 */
import { InferenceEventContract } from '../../schemas/index.js';
import { defineTopology, toOutput } from '../../runtime/topology.js';

export default defineTopology({
  name: 'passthrough',
  description: 'Copies inference-events to inference-events.copy through decode → encode → produce.',
  input: { topic: 'inference-events', contract: InferenceEventContract, eventTime: (event) => event.ts },
  outputs: { output: { topic: 'inference-events.copy', contract: InferenceEventContract } },
  steps: (input) => input.step('route', toOutput('output')),
});
