import { expect } from 'chai';
import fc from 'fast-check';
import { allocateBudget, TopKeyReservoir, WindowSampler, type KeyScheme, type StratumAllocation } from '../../operators/adaptive-sample/index.js';
import { SeededRandom } from '../../core/random.js';

function sampler(keyScheme: KeyScheme, capacity: number, random: SeededRandom, allocation: StratumAllocation = 'equal') {
  return new WindowSampler<number>({ keyScheme, capacityPerGroup: capacity, maxGroups: 8, allocation }, random);
}

/** Chi-square statistic of observed counts against equal expected counts. */
function chiSquare(counts: readonly number[]): number {
  const expected = counts.reduce((a, b) => a + b, 0) / counts.length;
  return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
}

describe('sampling (pure logic)', () => {
  describe('TopKeyReservoir', () => {
    it('keeps the largest keys and returns what leaves', () => {
      const r = new TopKeyReservoir<string>(2);
      expect(r.offer('a', 1)).to.equal(undefined);
      expect(r.offer('b', 3)).to.equal(undefined);
      expect(r.offer('c', 0)).to.equal('c');
      expect(r.offer('d', 2)).to.equal('a');
      const { chosen, discarded, thresholdLogKey } = r.drain(1);
      expect(chosen.map((c) => c.item)).to.deep.equal(['b']);
      expect(discarded).to.deep.equal(['d']);
      expect(thresholdLogKey).to.equal(2);
    });

    it('holds exactly the top-k of any sequence (property)', () => {
      fc.assert(
        fc.property(fc.array(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), { maxLength: 100 }), fc.integer({ min: 1, max: 10 }), (keys, k) => {
          const r = new TopKeyReservoir<number>(k);
          let released = 0;
          keys.forEach((key, i) => {
            if (r.offer(i, key) !== undefined) released++;
          });
          const { chosen, discarded } = r.drain(k);
          const top = [...keys].sort((a, b) => b - a).slice(0, k);
          return released + chosen.length + discarded.length === keys.length && chosen.map((c) => c.logKey).join() === top.join();
        }),
        { numRuns: 200 },
      );
    });
  });

  describe('allocateBudget', () => {
    it('splits equally, proportionally and congressionally', () => {
      expect(allocateBudget(10, [80, 20], [100, 100], 'equal')).to.deep.equal([5, 5]);
      expect(allocateBudget(10, [80, 20], [100, 100], 'proportional')).to.deep.equal([8, 2]);
      // congressional: max(0.5, 0.8) = 0.8, max(0.5, 0.2) = 0.5 → 0.8/1.3, 0.5/1.3 of 13 → 8, 5
      expect(allocateBudget(13, [80, 20], [100, 100], 'congressional')).to.deep.equal([8, 5]);
    });

    it('gives what a small stratum cannot use to the others', () => {
      expect(allocateBudget(10, [100, 2], [100, 2], 'equal')).to.deep.equal([8, 2]);
    });

    it('never exceeds the budget nor what a stratum holds (property)', () => {
      const allocation = fc.constantFrom<StratumAllocation>('equal', 'proportional', 'congressional');
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 500 }),
          fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 300 })), { minLength: 1, maxLength: 12 }),
          allocation,
          (budget, strata, how) => {
            const seen = strata.map(([a, b]) => Math.max(a, b));
            const held = strata.map(([a, b]) => Math.min(a, b));
            const result = allocateBudget(budget, seen, held, how);
            const total = result.reduce((a, b) => a + b, 0);
            const heldTotal = held.reduce((a, b) => a + b, 0);
            return total <= budget && result.every((r, i) => r >= 0 && r <= held[i]!) && total === Math.min(budget, heldTotal);
          },
        ),
        { numRuns: 300 },
      );
    });

    it('randomised rounding keeps the budget exact and gives each stratum the floor or ceiling of its share (property)', () => {
      const allocation = fc.constantFrom<StratumAllocation>('equal', 'proportional', 'congressional');
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 60 }), fc.array(fc.integer({ min: 1, max: 500 }), { minLength: 1, maxLength: 150 }), allocation, fc.integer(), (budget, seen, how, seed) => {
          const random = SeededRandom.fromSeed(seed);
          const result = allocateBudget(budget, seen, seen, how, () => random.nextFloat());
          const total = result.reduce((a, b) => a + b, 0);
          const heldTotal = seen.reduce((a, b) => a + b, 0);
          return total === Math.min(budget, heldTotal) && result.every((r, i) => r >= 0 && r <= seen[i]!);
        }),
        { numRuns: 300 },
      );
    });

    it('a budget smaller than the strata: randomised rounding gives a small stratum its share, largest remainders never do', () => {
      // 10 records over 100 strata; the rare stratum comes last (first seen: the hot ones).
      const seen = [...Array.from({ length: 99 }, () => 50), 1];
      expect(allocateBudget(10, seen, seen, 'congressional')[99]).to.equal(0);
      const random = SeededRandom.fromSeed(3);
      let rareChosen = 0;
      const runs = 4000;
      for (let run = 0; run < runs; run++) rareChosen += allocateBudget(10, seen, seen, 'congressional', () => random.nextFloat())[99]!;
      // Its congressional share is 10 × 0.01 = 0.1 record a window.
      expect(rareChosen / runs).to.be.closeTo(0.1, 0.02);
    });
  });

  describe('WindowSampler', () => {
    it('equal weights give uniform inclusion (chi-square, 19 df, p = 0.001)', () => {
      // Critical value of χ²(19) at p = 0.001 is 43.82.
      fc.assert(
        fc.property(fc.integer(), fc.constantFrom<KeyScheme>('uniform', 'a-res', 'a-expj', 'priority'), (seed, scheme) => {
          const random = SeededRandom.fromSeed(seed);
          const counts = new Array<number>(20).fill(0);
          for (let run = 0; run < 1000; run++) {
            const s = sampler(scheme, 5, random);
            for (let i = 0; i < 20; i++) s.offer(i, '', 1);
            for (const { item } of s.close(5).chosen) counts[item]!++;
          }
          return chiSquare(counts) < 43.82;
        }),
        { numRuns: 8, seed: 7 },
      );
    });

    it('A-Res / A-ExpJ include a record in proportion to its weight (k = 1, within 0.03)', () => {
      const weights = [1, 2, 3, 4];
      for (const scheme of ['a-res', 'a-expj'] as const) {
        const random = SeededRandom.fromSeed(11);
        const counts = weights.map(() => 0);
        const runs = 4000;
        for (let run = 0; run < runs; run++) {
          const s = sampler(scheme, 1, random);
          weights.forEach((w, i) => s.offer(i, '', w));
          for (const { item } of s.close(1).chosen) counts[item]!++;
        }
        counts.forEach((c, i) => expect(c / runs, `${scheme} item ${i}`).to.be.closeTo(weights[i]! / 10, 0.03));
      }
    });

    it('A-Res inclusion weights estimate the count of records without bias (mean over seeds within 3%)', () => {
      fc.assert(
        fc.property(fc.integer(), fc.constantFrom<KeyScheme>('a-res', 'a-expj'), (seed, scheme) => {
          const random = SeededRandom.fromSeed(seed);
          const weights = Array.from({ length: 200 }, (_, i) => 0.1 + (i % 10));
          let estimates = 0;
          const runs = 400;
          for (let run = 0; run < runs; run++) {
            const s = sampler(scheme, 20, random);
            weights.forEach((w, i) => s.offer(i, '', w));
            estimates += s.close(20).chosen.reduce((sum, c) => sum + c.inclusionWeight, 0);
          }
          return Math.abs(estimates / runs / weights.length - 1) < 0.03;
        }),
        { numRuns: 4, seed: 3 },
      );
    });

    it('priority-sampling estimates of totals are unbiased (mean over seeds within 2%)', () => {
      fc.assert(
        fc.property(fc.integer(), fc.array(fc.double({ min: 0.01, max: 100, noNaN: true }), { minLength: 30, maxLength: 80 }), (seed, weights) => {
          const random = SeededRandom.fromSeed(seed);
          const truth = weights.reduce((a, b) => a + b, 0);
          let estimates = 0;
          const runs = 600;
          for (let run = 0; run < runs; run++) {
            const s = sampler('priority', 10, random);
            weights.forEach((w, i) => s.offer(i, '', w));
            estimates += s.close(10).chosen.reduce((sum, c) => sum + c.inclusionWeight * weights[c.item]!, 0);
          }
          return Math.abs(estimates / runs / truth - 1) < 0.02;
        }),
        { numRuns: 6, seed: 5 },
      );
    });

    it('many strata and a small budget: stratum totals weighted by inclusion weight stay unbiased (mean over seeds within 5%)', () => {
      // 40 strata of 1–30 records, 8 records a window: most strata get 0 or 1 record, at random.
      const sizes = Array.from({ length: 40 }, (_, i) => 1 + ((i * 7) % 30));
      const random = SeededRandom.fromSeed(11);
      let estimate = 0;
      const runs = 3000;
      for (let run = 0; run < runs; run++) {
        const s = new WindowSampler<number>({ keyScheme: 'uniform', capacityPerGroup: 50, maxGroups: 64, allocation: 'congressional' }, random);
        sizes.forEach((n, h) => {
          for (let i = 0; i < n; i++) s.offer(h, `s${h}`, 1);
        });
        for (const chosen of s.close(8).chosen) if (chosen.item === 0) estimate += chosen.inclusionWeight; // stratum 0: 1 record
      }
      expect(estimate / runs).to.be.closeTo(sizes[0]!, 0.05 * sizes[0]!);
    });

    it('uniform inclusion weights are n_h / k_h per stratum', () => {
      const s = new WindowSampler<number>({ keyScheme: 'uniform', capacityPerGroup: 10, maxGroups: 4, allocation: 'equal' }, SeededRandom.fromSeed(1));
      for (let i = 0; i < 40; i++) s.offer(i, i < 30 ? 'big' : 'small', 1);
      const { chosen, discarded } = s.close(10);
      expect(chosen).to.have.length(10);
      expect(discarded).to.have.length(10); // 20 held (10 per stratum) minus 10 chosen
      for (const c of chosen) expect(c.inclusionWeight).to.equal(c.group === 'big' ? 30 / 5 : 10 / 5);
    });

    it('sends strata beyond maxGroups to one overflow group', () => {
      const s = new WindowSampler<number>({ keyScheme: 'uniform', capacityPerGroup: 10, maxGroups: 2, allocation: 'equal' }, SeededRandom.fromSeed(1));
      ['a', 'b', 'c', 'd'].forEach((g, i) => s.offer(i, g, 1));
      expect(new Set(s.close(4).chosen.map((c) => c.group))).to.deep.equal(new Set(['a', 'b', '(other)']));
    });
  });
});
