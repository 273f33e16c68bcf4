import { expect } from 'chai';
import latencyWatch from '../../topologies/latency-watch/index.js';
import { TopologyTestDriver } from '../../runtime/testing/topology-test-driver.js';
import { generateInferenceEvents } from '../../lab/generator/simple-stream.js';
import type { InferenceEvent, Mention } from '../../schemas/index.js';

describe('topology latency-watch', () => {
  const normal = [...generateInferenceEvents({ count: 3_000, seed: 5, models: 3, incidents: 0 }).events].map((e) => ({ ...e, latency_ms: 80 + (e.latency_ms % 10) }));

  it('stays quiet on normal latency and settles every input as dropped', () => {
    const result = new TopologyTestDriver(latencyWatch).pipe(normal.map(asRecord)).complete();
    expect(result.outputs.mentions).to.have.length(0);
    expect(result.settlements.size).to.equal(normal.length);
    expect([...result.settlements.values()].every((o) => o === 'dropped')).to.equal(true);
  });

  it('turns a slow inference of a warmed-up model into one Mention naming the model, segment and field', () => {
    const slow: InferenceEvent = { ...normal.at(-1)!, event_id: 'slow-1', ts: normal.at(-1)!.ts + 1, latency_ms: 5_000 };
    const result = new TopologyTestDriver(latencyWatch).pipe([...normal, slow].map(asRecord)).complete();
    const mentions = result.outputs.mentions as Mention[];
    expect(mentions).to.have.length(1);
    expect(mentions[0]).to.include({ model_id: slow.model_id, segment: slow.segment, field: 'latency_ms', direction: 'HIGH', event_count: 1 });
    expect(mentions[0]!.evidence_event_ids).to.deep.equal(['slow-1']);
    expect(mentions[0]!.score).to.be.greaterThan(4);
    expect(result.settlements.get(normal.length)).to.equal('delivered');
  });

  it('is driven record by record with pipeInput and readOutput', () => {
    const driver = new TopologyTestDriver(latencyWatch);
    for (const event of normal) driver.pipeInput(event.model_id, event, event.ts);
    expect(driver.readOutput('mentions')).to.have.length(0);
    const last = normal.at(-1)!;
    driver.pipeInput(last.model_id, { ...last, event_id: 'slow-2', latency_ms: 9_000 }, last.ts + 1);
    expect((driver.readOutput('mentions') as Mention[]).map((m) => m.evidence_event_ids[0])).to.deep.equal(['slow-2']);
    expect(driver.readOutput('mentions')).to.have.length(0);
    expect(() => driver.readOutput('nope')).to.throw(/no output "nope"/);
  });

  it('starts each run with fresh baselines (state is per subscription, not per module)', () => {
    const slowFirst: InferenceEvent = { ...normal[0]!, event_id: 'early', latency_ms: 5_000 };
    new TopologyTestDriver(latencyWatch).pipe(normal.map(asRecord)).complete();
    // A warm baseline from the previous run would flag this; a fresh one is still warming up.
    const result = new TopologyTestDriver(latencyWatch).pipe([asRecord(slowFirst)]).complete();
    expect(result.outputs.mentions).to.have.length(0);
  });
});

function asRecord(event: InferenceEvent): { value: InferenceEvent; eventTimeMs: number; key: string } {
  return { value: event, eventTimeMs: event.ts, key: event.model_id };
}
