import { expect } from 'chai';
import fc from 'fast-check';
import { SeededRandom } from '../../../core/random.js';
import { createDetector, detectorNames, HalfSpaceForest } from '../../../operators/parallel-detect/index.js';

/** A seeded noisy series: N(level, 1) by Box-Muller. */
function noise(seed: number, length: number, level = 10): number[] {
  const random = SeededRandom.fromSeed(seed);
  return Array.from({ length }, () => level + random.nextGaussian());
}

describe('detectors (every registered one)', () => {
  for (const name of detectorNames) {
    describe(name, () => {
      it('returns scores in [0, 1] and few findings on stationary noise', () => {
        const d = createDetector(name);
        const scores = noise(1, 2000).map((x, i) => d.score(i * 1000, x));
        expect(scores.every((s) => s >= 0 && s <= 1)).to.equal(true);
        const flagged = scores.filter((s) => s >= d.threshold).length;
        expect(flagged / scores.length).to.be.lessThan(0.02);
      });

      it('flags a level shift of 6σ within 60 points of it', () => {
        const d = createDetector(name);
        const series = [...noise(2, 1000), ...noise(3, 200, 16)];
        const scores = series.map((x, i) => d.score(i * 1000, x));
        const after = scores.slice(1000, 1060);
        expect(Math.max(...after)).to.be.at.least(d.threshold);
      });

      it('continues identically after a JSON snapshot/restore', () => {
        const series = noise(4, 900);
        const a = createDetector(name);
        for (let i = 0; i < 600; i++) a.score(i, series[i]!);
        const b = createDetector(name);
        b.restore(JSON.parse(JSON.stringify(a.snapshot())));
        for (let i = 600; i < 900; i++) expect(b.score(i, series[i]!)).to.equal(a.score(i, series[i]!));
      });

      it('scores a point from earlier data only, and skips non-finite values', () => {
        fc.assert(
          fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 80 }), (xs) => {
            const a = createDetector(name);
            const b = createDetector(name);
            for (const [i, x] of xs.entries()) {
              a.score(i, x);
              b.score(i, x);
              expect(a.score(i, Number.NaN)).to.equal(0);
            }
            // Same history, then one different future point each: the scores so far were equal by construction;
            // check that the score of a shared point does not depend on what came after.
            expect(a.observe(xs.length, 3).score).to.equal(b.observe(xs.length, 3).score);
          }),
          { numRuns: 30 },
        );
      });
    });
  }

  it('half-space forest: a point far from the data scores higher than the data', () => {
    const forest = new HalfSpaceForest(2, { windowPoints: 50 });
    const series = noise(5, 400);
    for (let i = 0; i + 1 < 300; i += 1) forest.scoreAndLearn([series[i]!, series[i + 1]!]);
    const normal = forest.scoreAndLearn([10, 10]).score;
    const outlier = forest.scoreAndLearn([10, 16]);
    expect(outlier.score).to.be.greaterThan(normal);
    expect(outlier.score).to.be.at.least(0.98);
    expect(outlier.dimension).to.equal(1);
  });

  it('half-space forest: the same seed builds the same forest', () => {
    const a = new HalfSpaceForest(3, { seed: 7, windowPoints: 20 });
    const b = new HalfSpaceForest(3, { seed: 7, windowPoints: 20 });
    const series = noise(6, 300);
    for (let i = 0; i + 2 < series.length; i++) {
      const v = [series[i]!, series[i + 1]!, series[i + 2]!];
      expect(a.scoreAndLearn(v)).to.deep.equal(b.scoreAndLearn(v));
    }
  });
});
