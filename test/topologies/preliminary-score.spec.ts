import { expect } from 'chai';
import fc from 'fast-check';
import { SeededRandom } from '../../core/random.js';
import type { InferenceEvent } from '../../schemas/index.js';
import { PreliminaryScorer, samplingWeight } from '../../topologies/model-monitor/preliminary-score.js';

const event = (latencyMs: number, segment = 'rare'): InferenceEvent => ({
  event_id: 'e',
  ts: 0,
  model_id: 'm',
  model_version: 'v1',
  tenant: 't',
  segment,
  features: [],
  prediction: 0.5,
  confidence: 0.9,
  latency_ms: latencyMs,
  input_tokens: 100,
  output_tokens: 100,
  attributes: {},
});

describe('model-monitor: preliminary score (what adaptive sampling favours)', () => {
  it('an incident keeps scoring high: heavy-tailed noise does not inflate the variance, the shift is not learnt away', () => {
    const random = SeededRandom.fromSeed(5);
    const gaussian = (): number => random.nextGaussian();
    const scorer = new PreliminaryScorer(['latency_ms']);
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    // Normal traffic around 100 ms (sd 10) with a 1% tail of 20× spikes.
    const normal: number[] = [];
    for (let i = 0; i < 2000; i++) normal.push(scorer.score(event(random.nextFloat() < 0.01 ? 2000 : 100 + 10 * gaussian())));
    // An incident: +40 ms (4 sd) for 50 records.
    const incident: number[] = [];
    for (let i = 0; i < 50; i++) incident.push(scorer.score(event(140 + 10 * gaussian())));
    // A plain fast EWMA (alpha 0.02, no clip) scored both alike (the spikes inflated the variance):
    // the incident's records must stand out from normal ones by their sampling weight.
    expect(median(normal.slice(1000))).to.be.below(1.5);
    expect(median(incident)).to.be.greaterThan(3);
    expect(samplingWeight(median(incident)) / samplingWeight(median(normal.slice(1000)))).to.be.greaterThan(4);
    expect(new PreliminaryScorer(['latency_ms']).score(event(100))).to.equal(0); // not warmed up: 0
  });

  it('scores are finite and ≥ 0 for any finite values (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e9, max: 1e9, noNaN: true }), { minLength: 1, maxLength: 300 }), (values) => {
        const scorer = new PreliminaryScorer(['latency_ms']);
        return values.every((v) => {
          const s = scorer.score(event(v));
          return Number.isFinite(s) && s >= 0;
        });
      }),
      { numRuns: 200 },
    );
  });
});
