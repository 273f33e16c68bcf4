import { expect } from 'chai';
import fc from 'fast-check';
import { tuneThreshold } from '../../../operators/parallel-detect/index.js';

describe('detectors/tuneThreshold', () => {
  it('finds the separating threshold of separable data', () => {
    const t = tuneThreshold([0.1, 0.2, 0.9, 0.95, 0.3], [false, false, true, true, false], 1);
    expect(t).to.include({ threshold: 0.9, fBeta: 1, precision: 1, recall: 1 });
    expect(t.recallAtPrecision.map((r) => r.recall)).to.deep.equal([1, 1, 1, 1]);
  });

  it('trades precision for recall as beta grows', () => {
    const scores = [0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4];
    const labels = [true, true, false, true, false, true, false];
    const precise = tuneThreshold(scores, labels, 0.5);
    const recallFirst = tuneThreshold(scores, labels, 2);
    expect(recallFirst.recall).to.be.at.least(precise.recall);
    expect(recallFirst.threshold).to.be.at.most(precise.threshold);
  });

  it('weights count a sampled record as 1/p records', () => {
    const t = tuneThreshold([0.9, 0.8, 0.7], [true, false, true], 1, [1, 1, 10]);
    expect(t.threshold).to.equal(0.7);
  });

  it('never splits tied scores, and is the best F-beta over all thresholds (brute force)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 10 }), fc.boolean()), { minLength: 1, maxLength: 40 }),
        fc.constantFrom(0.5, 1, 2),
        (rows, beta) => {
          const scores = rows.map(([s]) => s / 10);
          const labels = rows.map(([, l]) => l);
          const t = tuneThreshold(scores, labels, beta);
          const positives = labels.filter(Boolean).length;
          let bestF = 0;
          for (const th of new Set(scores)) {
            const tp = rows.filter(([s, l]) => s / 10 >= th && l).length;
            const fp = rows.filter(([s, l]) => s / 10 >= th && !l).length;
            const p = tp + fp ? tp / (tp + fp) : 1;
            const r = positives ? tp / positives : 0;
            const f = beta * beta * p + r > 0 ? ((1 + beta * beta) * p * r) / (beta * beta * p + r) : 0;
            bestF = Math.max(bestF, f);
          }
          expect(t.fBeta).to.be.closeTo(bestF, 1e-12);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('rejects mismatched lengths and a bad beta', () => {
    expect(() => tuneThreshold([1], [], 1)).to.throw(RangeError, /1 scores but 0 labels/);
    expect(() => tuneThreshold([1], [true], 0)).to.throw(RangeError, /beta/);
  });
});
