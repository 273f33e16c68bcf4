import { expect } from 'chai';
import fc from 'fast-check';
import { SeededRandom } from '../../core/random.js';

describe('core: SeededRandom', () => {
  it('nextGaussian is Box–Muller over nextOpenFloat then nextFloat (the draws every generator made by hand)', () => {
    fc.assert(
      fc.property(fc.integer(), fc.nat(50), (seed, skip) => {
        const a = SeededRandom.fromSeed(seed);
        const b = SeededRandom.fromSeed(seed);
        for (let i = 0; i < skip; i++) {
          a.nextFloat();
          b.nextFloat();
        }
        const byHand = Math.sqrt(-2 * Math.log(b.nextOpenFloat())) * Math.cos(2 * Math.PI * b.nextFloat());
        expect(a.nextGaussian()).to.equal(byHand);
        // Both consumed two draws: the streams stay in step.
        expect(a.nextFloat()).to.equal(b.nextFloat());
      }),
    );
  });

  it('nextGaussian is standard normal: mean about 0, variance about 1, finite', () => {
    const random = SeededRandom.fromSeed(11);
    const draws = Array.from({ length: 20_000 }, () => random.nextGaussian());
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    const variance = draws.reduce((a, b) => a + (b - mean) ** 2, 0) / draws.length;
    expect(draws.every(Number.isFinite)).to.equal(true);
    expect(Math.abs(mean)).to.be.below(0.03);
    expect(variance).to.be.within(0.95, 1.05);
  });
});
