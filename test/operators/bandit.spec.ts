import { expect } from 'chai';
import fc from 'fast-check';
import { BudgetBandit, gammaVariate, splitBudget } from '../../operators/bandit-budget/index.js';
import { SeededRandom } from '../../core/random.js';

/** Poisson variate for the simulations (Knuth below 30, normal approximation above). */
function poisson(mean: number, random: SeededRandom): number {
  if (mean <= 0) return 0;
  if (mean > 30) {
    const z = random.nextGaussian();
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * z));
  }
  const limit = Math.exp(-mean);
  let k = 0;
  let p = random.nextOpenFloat();
  while (p > limit) {
    k++;
    p *= random.nextOpenFloat();
  }
  return k;
}

/** Runs the bandit on arms whose mentions per record are `ratesAt(epoch)`; returns each epoch's shares. */
function simulate(bandit: BudgetBandit, ratesAt: (epoch: number) => readonly number[], epochs: number, budget: number, seed: number): number[][] {
  const random = SeededRandom.fromSeed(seed);
  const history: number[][] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    const shares = bandit.shares(random).map((s) => s.share);
    const records = splitBudget(budget, shares);
    const rates = ratesAt(epoch);
    bandit.arms.forEach((arm, i) => bandit.recordFeedback(arm, poisson(rates[i]! * records[i]!, random), records[i]!));
    bandit.endEpoch();
    history.push(shares);
  }
  return history;
}

describe('budget bandit (pure logic)', () => {
  it('draws Gamma variates with the right mean', () => {
    const random = SeededRandom.fromSeed(1);
    for (const [shape, rate] of [[0.5, 2], [3, 1], [40, 10]] as const) {
      let sum = 0;
      for (let i = 0; i < 4000; i++) sum += gammaVariate(shape, rate, random);
      expect(sum / 4000).to.be.closeTo(shape / rate, (shape / rate) * 0.06);
    }
  });

  it('splits a budget into integers that sum to it exactly (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 20 }), (budget, raw) => {
        const total = raw.reduce((a, b) => a + b, 0);
        const shares = total > 0 ? raw.map((r) => r / total) : raw.map(() => 1 / raw.length);
        const counts = splitBudget(budget, shares);
        return counts.reduce((a, b) => a + b, 0) === budget && counts.every((c, i) => c >= 0 && Math.abs(c - shares[i]! * budget) < 1 + 1e-9);
      }),
      { numRuns: 300 },
    );
  });

  it('allocations sum to the budget and respect the floor, whatever the feedback (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom('thompson' as const, 'ucb1' as const),
        fc.array(fc.tuple(fc.nat(5), fc.nat(50), fc.nat(100)), { maxLength: 30 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer(),
        (armCount, policy, feedback, budget, seed) => {
          const arms = Array.from({ length: armCount }, (_, i) => `arm${i}`);
          const bandit = new BudgetBandit({ arms, policy, thompsonDraws: 64 });
          const random = SeededRandom.fromSeed(seed);
          for (const [arm, mentions, cost] of feedback) {
            bandit.recordFeedback(`arm${arm}`, mentions, cost);
            if (mentions % 3 === 0) bandit.endEpoch();
          }
          const shares = bandit.shares(random);
          const shareSum = shares.reduce((a, s) => a + s.share, 0);
          const counts = splitBudget(budget, shares.map((s) => s.share));
          return (
            Math.abs(shareSum - 1) < 1e-9 &&
            shares.every((s) => s.share >= bandit.floorShare - 1e-12) &&
            counts.reduce((a, b) => a + b, 0) === budget
          );
        },
      ),
      { numRuns: 150 },
    );
  });

  // Arms yield 0.01, 0.02 and 0.03 mentions per record; 2000 records per epoch.
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const convergence = { thompson: 0.8, ucb1: 0.5 } as const;

  for (const policy of ['thompson', 'ucb1'] as const) {
    it(`${policy}: on a stationary problem the best arm's share converges (mean of epochs 30–39 ≥ ${convergence[policy]}, 6 seeds)`, () => {
      for (let seed = 0; seed < 6; seed++) {
        const bandit = new BudgetBandit({ arms: ['a', 'b', 'c'], policy, discount: 0.9, thompsonDraws: 256 });
        const history = simulate(bandit, () => [0.01, 0.02, 0.03], 40, 2000, seed);
        const best = history.slice(30).map((shares) => shares[2]!);
        expect(mean(best), `seed ${seed}`).to.be.at.least(convergence[policy]);
        // Thompson is smooth epoch to epoch; batched UCB1 swings between exploring and exploiting.
        if (policy === 'thompson') for (const shares of history.slice(30)) expect(shares[2]).to.be.at.least(0.6);
      }
    });

    it(`${policy}: after the best arm changes, the allocation follows within 6 epochs (discount 0.7, 6 seeds)`, () => {
      for (let seed = 0; seed < 6; seed++) {
        const bandit = new BudgetBandit({ arms: ['a', 'b', 'c'], policy, discount: 0.7, thompsonDraws: 256 });
        const history = simulate(bandit, (epoch) => (epoch < 30 ? [0.03, 0.02, 0.01] : [0.01, 0.02, 0.03]), 37, 2000, seed);
        expect(mean(history.slice(25, 30).map((s) => s[0]!)), `seed ${seed} before`).to.be.at.least(0.5);
        expect(Math.max(...history.slice(30, 37).map((s) => s[2]!)), `seed ${seed} after`).to.be.at.least(0.5);
      }
    });
  }

  it('ignores malformed feedback instead of failing', () => {
    const bandit = new BudgetBandit({ arms: ['a', 'b'] });
    expect(bandit.recordFeedback('zzz', 1, 1)).to.equal(false);
    expect(bandit.recordFeedback('a', -1, 1)).to.equal(false);
    expect(bandit.recordFeedback('a', NaN, 1)).to.equal(false);
    expect(bandit.recordFeedback('a', 2, 3)).to.equal(true);
  });

  it('snapshots to JSON and restores', () => {
    const bandit = new BudgetBandit({ arms: ['a', 'b'] });
    bandit.recordFeedback('a', 4, 10);
    bandit.endEpoch();
    bandit.recordFeedback('b', 1, 2);
    const copy = new BudgetBandit({ arms: ['a', 'b'] });
    copy.restore(JSON.parse(JSON.stringify(bandit.snapshot())));
    expect(copy.snapshot()).to.deep.equal(bandit.snapshot());
    expect(copy.shares(SeededRandom.fromSeed(1))).to.deep.equal(bandit.shares(SeededRandom.fromSeed(1)));
  });

  it('validates its options, naming the option and range', () => {
    expect(() => new BudgetBandit({ arms: [] })).to.throw(RangeError, /arms must be 1 to 64 unique names/);
    expect(() => new BudgetBandit({ arms: ['a', 'a'] })).to.throw(RangeError, /unique/);
    expect(() => new BudgetBandit({ arms: ['a', 'b'], discount: 0 })).to.throw(RangeError, /option 'discount' must be a number in \(0, 1\]/);
    expect(() => new BudgetBandit({ arms: ['a', 'b'], floorShare: 0.6 })).to.throw(RangeError, /option 'floorShare' must be a number in \[0, 0.5\]/);
    expect(() => new BudgetBandit({ arms: ['a'], policy: 'greedy' as never })).to.throw(RangeError, /policy/);
  });
});
