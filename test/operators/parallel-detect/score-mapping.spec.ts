import { expect } from 'chai';
import fc from 'fast-check';
import { alarmRatioScore, createDetector, erf, gaussianTailScore, scoreAtTailProbability, twoSidedNegLog10P } from '../../../operators/parallel-detect/index.js';

describe('detectors: score mapping (no ties at 1 in the far tail)', () => {
  it('−log10 p agrees with 1 − erf where the probability is representable', () => {
    for (const z of [0.5, 1, 2, 3, 4, 5]) {
      const p = 1 - erf(z / Math.SQRT2);
      expect(twoSidedNegLog10P(z)).to.be.closeTo(-Math.log10(p), 0.01 + 0.01 * -Math.log10(p));
    }
  });

  it('the Gaussian tail score is strictly increasing in |z| and below 1 for every finite z (it used to round to 1 beyond |z| ≈ 5.9)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e3, noNaN: true }), fc.double({ min: 1e-3, max: 10, noNaN: true }), (z, step) => {
        const a = gaussianTailScore(z);
        const b = gaussianTailScore(z + step);
        return a < 1 && b < 1 && b > a && gaussianTailScore(-z) === a;
      }),
    );
    expect(gaussianTailScore(6)).to.be.below(gaussianTailScore(8));
    expect(gaussianTailScore(8)).to.be.below(gaussianTailScore(40));
    expect(scoreAtTailProbability(1e-4)).to.be.closeTo(0.8, 1e-12);
    expect(gaussianTailScore(Infinity)).to.equal(1);
    expect(gaussianTailScore(Number.NaN)).to.equal(0);
  });

  it('the alarm-ratio score is strictly increasing and below 1 (1 − 2^−r tied at 1 beyond r ≈ 53)', () => {
    fc.assert(fc.property(fc.double({ min: 0, max: 1e4, noNaN: true }), fc.double({ min: 1e-3, max: 1e3, noNaN: true }), (r, step) => alarmRatioScore(r + step) > alarmRatioScore(r) && alarmRatioScore(r + step) < 1));
    expect(alarmRatioScore(1)).to.equal(0.5);
  });

  for (const name of ['ewma-zscore', 'mad', 'cusum', 'page-hinkley'] as const) {
    it(`${name}: growing outliers after the same history get distinct scores, none exactly 1`, () => {
      const scores = [20, 40, 80, 160].map((size) => {
        const detector = createDetector(name);
        for (let i = 0; i < 600; i++) detector.score(i * 1000, 10 + Math.sin(i * 0.7) + 0.3 * Math.cos(i * 1.3));
        return detector.score(600_000, 10 + size);
      });
      expect(scores.every((s) => s < 1), String(scores)).to.equal(true);
      expect(new Set(scores).size, String(scores)).to.equal(scores.length);
    });
  }

  it('half-space-trees: a point sparser than every reference point scores below 1 (rank over n + 1)', () => {
    const detector = createDetector('half-space-trees');
    for (let i = 0; i < 600; i++) detector.score(i * 1000, 10 + Math.sin(i * 0.7));
    const score = detector.score(600_000, 1e6);
    expect(score).to.be.above(0.9);
    expect(score).to.be.below(1);
  });
});
