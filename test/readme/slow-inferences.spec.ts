/**
 * The test README.md shows under "Testing a topology" (the regions marked readme-* are copied there
 * verbatim; test/readme/readme.spec.ts checks it).
 */
// #region readme-test-imports
import { expect } from 'chai';
import { TopologyTestDriver } from '../../runtime/testing/topology-test-driver.js';
import slowInferences from './slow-inferences.js';
// #endregion readme-test-imports
import type { InferenceEvent } from '../../schemas/index.js';

const base: InferenceEvent = {
  event_id: 'e0', ts: 1_767_225_600_000, model_id: 'model-001', model_version: 'v1', tenant: 't1', segment: 'research',
  features: [0.1], prediction: 0.5, confidence: 0.9, latency_ms: 120, input_tokens: 10, output_tokens: 20, attributes: {},
};
const events: InferenceEvent[] = [
  base,
  { ...base, event_id: 'e1', ts: base.ts + 1_000, latency_ms: 9_000 },
  { ...base, event_id: 'e2', ts: base.ts + 2_000, confidence: 7 },
];

describe('README: testing a topology', () => {
  // #region readme-test
  it('turns a slow inference into a Mention, drops the fast one, dead-letters the broken one', () => {
    const driver = new TopologyTestDriver(slowInferences);
    for (const event of events) driver.pipeInput(event.model_id, event, event.ts);  // key, value, event time
    expect(driver.readOutput('mentions')).to.have.length(1);                         // what arrived since the last read
    const result = driver.complete();              // flushes open windows; completeAsync() when steps wait on timers or I/O
    expect(result.deadLetters.map((d) => d.step)).to.deep.equal(['check']);
    expect([...result.settlements.values()]).to.deep.equal(['dropped', 'delivered', 'dead-lettered']);  // every input settles once
  });
  // #endregion readme-test
});
