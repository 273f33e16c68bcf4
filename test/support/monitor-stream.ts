import { SeededRandom } from '../../core/random.js';
import type { InferenceEvent } from '../../schemas/index.js';

/**
 * `count` records of model m1, segment s1, every 100 ms from `startMs`; latency × e^shift(i) (its σ is
 * 0.2 in log). A stream for model-monitor specs on the test driver that build incidents by hand.
 */
export function oneKeyStream(startMs: number, count: number, seed: number, shift: (i: number) => number = () => 0): InferenceEvent[] {
  const random = SeededRandom.fromSeed(seed);
  const gauss = (): number => random.nextGaussian();
  return Array.from({ length: count }, (_, i) => ({
    event_id: `e${seed}-${i}`,
    ts: startMs + i * 100,
    model_id: 'm1',
    model_version: 'v1',
    tenant: 't1',
    segment: 's1',
    features: [gauss(), gauss(), gauss(), gauss()],
    prediction: 0.3 + 0.02 * gauss(),
    confidence: 0.8 + 0.02 * gauss(),
    latency_ms: 100 * Math.exp(0.2 * gauss() + shift(i)),
    input_tokens: 100,
    output_tokens: Math.round(200 * Math.exp(0.1 * gauss())),
    attributes: {},
  }));
}
