import { expect } from 'chai';
import { from, lastValueFrom, toArray } from 'rxjs';
import { testEnvelope } from '../../core/envelope.js';
import * as operators from '../../operators/index.js';

describe('operators/index', () => {
  it('exports the operators and the shared pieces from one module', () => {
    for (const name of ['adaptiveSample', 'backgroundRate', 'banditBudget', 'changeSketch', 'enrich', 'keyedPartition', 'parallelDetect', 'robustZScore', 'watermarkHold', 'windowDelayProbe', 'windowedDedup'] as const) {
      expect(operators[name], name).to.be.a('function');
    }
    expect(operators.SeededRandom.fromSeed(1).nextFloat()).to.be.within(0, 1);
    expect(operators.detectorNames).to.include('ewma-zscore');
    expect(operators.tumblingWindowFor(12, { sizeMs: 10 })).to.deep.equal({ startMs: 10, endMs: 20 });
  });

  it('composes a chain from the one import', async () => {
    const { adaptiveSample, keyedPartition, SeededRandom } = operators;
    const out = await lastValueFrom(
      from([1, 2, 3, 4].map((n) => testEnvelope(n, { key: `k${n % 2}`, eventTimeMs: n }))).pipe(
        adaptiveSample<number>({ strategy: { kind: 'uniform-rate' }, budget: { fraction: 1 }, random: SeededRandom.fromSeed(3) }),
        keyedPartition({ lanes: 2, work: (e) => e }),
        toArray(),
      ),
    );
    expect(out.map((e) => e.value.record).sort()).to.deep.equal([1, 2, 3, 4]);
  });
});
