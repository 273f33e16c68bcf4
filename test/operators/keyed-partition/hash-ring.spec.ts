import { expect } from 'chai';
import fc from 'fast-check';
import { HashRing, HotKeyTracker, LaneTable, staticLaneOf } from '../../../operators/keyed-partition/index.js';

const keys = Array.from({ length: 4000 }, (_, i) => `model-${i}`);

describe('partitioning', () => {
  const table = (overrides: Partial<ConstructorParameters<typeof LaneTable>[0]> = {}) =>
    new LaneTable<number>({ laneCount: 3, routing: 'consistent', virtualNodesPerLane: 64, boundedLoadEpsilon: null, stealing: true, minStealQueued: 2, ...overrides });

  describe('HashRing', () => {
    it('adding a lane moves about 1/(N+1) of the keys (hash mod N moves most)', () => {
      for (const n of [2, 4, 8]) {
        const before = new HashRing(n, 128);
        const after = new HashRing(n + 1, 128);
        const moved = keys.filter((k) => before.laneOf(k) !== after.laneOf(k)).length / keys.length;
        expect(moved, `N=${n}`).to.be.within(0.5 / (n + 1), 1.6 / (n + 1));
        const movedStatic = keys.filter((k) => staticLaneOf(k, n) !== staticLaneOf(k, n + 1)).length / keys.length;
        expect(movedStatic).to.be.greaterThan(0.45);
      }
    });

    it('spreads keys evenly with virtual nodes', () => {
      const ring = new HashRing(8, 128);
      const counts = new Array<number>(8).fill(0);
      for (const k of keys) counts[ring.laneOf(k)]!++;
      for (const c of counts) expect(c / keys.length).to.be.within(0.125 * 0.7, 0.125 * 1.3);
    });

    it('walks every lane once, starting at the owner', () => {
      fc.assert(
        fc.property(fc.string(), fc.integer({ min: 1, max: 9 }), (key, n) => {
          const ring = new HashRing(n, 16);
          const walk = [...ring.walk(key)];
          expect(walk[0]).to.equal(ring.laneOf(key));
          expect([...walk].sort()).to.deep.equal(Array.from({ length: n }, (_, i) => i).sort());
        }),
        { numRuns: 50 },
      );
    });
  });

  describe('LaneTable', () => {
    it('keeps a key on its lane while active and serves keys round-robin', () => {
      const t = table({ stealing: false });
      const lane = t.enqueue('a', 1);
      expect(t.enqueue('a', 2)).to.equal(lane);
      const firstB = keys.find((k) => t.enqueue(k, 0) === lane && k !== 'a');
      expect(firstB).to.not.equal(undefined);
      expect(t.take(lane)).to.deep.include({ key: 'a', record: 1 });
      expect(t.take(lane)).to.equal(undefined); // busy
    });

    it('steals the longest queue that is not in flight from the busiest lane', () => {
      const t = table();
      const lane0Keys = keys.filter((k) => new HashRing(3, 64).laneOf(k) === 0).slice(0, 2);
      const [hot, other] = lane0Keys as [string, string];
      for (let i = 0; i < 3; i++) t.enqueue(hot, i);
      for (let i = 0; i < 5; i++) t.enqueue(other, 10 + i);
      expect(t.take(0)).to.deep.include({ key: hot, record: 0 });
      const stolen = t.take(1);
      expect(stolen).to.deep.include({ key: other, record: 10 });
      expect(t.laneOfActiveKey(other)).to.equal(1);
      expect(t.stats()[1]).to.include({ stolenIn: 1 });
      expect(t.stats()[0]).to.include({ stolenOut: 1 });
    });

    it('bounded loads cap active keys per lane at ⌈(1+ε)·keys/N⌉', () => {
      const t = table({ boundedLoadEpsilon: 0.25, stealing: false });
      for (const k of keys.slice(0, 300)) t.enqueue(k, 0);
      const cap = Math.ceil((1.25 * 300) / 3);
      for (const s of t.stats()) expect(s.activeKeys).to.be.at.most(cap);
    });
  });

  describe('LaneTable, bounded loads by recent records', () => {
    /** Routes every record and finishes it at once, as fast synchronous lane work does: no queue ever forms. */
    const runAtOnce = (t: LaneTable<number>, keysInOrder: readonly string[]): number[] => {
      for (const key of keysInOrder) {
        const lane = t.enqueue(key, 0);
        expect(t.take(lane)).to.deep.include({ key });
        t.done(lane, 0);
      }
      return t.stats().map((s) => s.records);
    };
    // Zipf-like: one key carries half the records.
    const skewed = Array.from({ length: 2000 }, (_, i) => (i % 2 === 0 ? 'hot' : `key-${i % 37}`));

    it('spreads a hot key whose lane never queues; the active-key bound and the plain ring leave it on one lane', () => {
      const byActiveKeys = runAtOnce(table({ boundedLoadEpsilon: 0.1, stealing: true }), skewed);
      const plain = runAtOnce(table({ stealing: true }), skewed);
      const byRecentRecords = runAtOnce(table({ boundedLoadEpsilon: 0.1, boundedLoadMeasure: 'recent-records', stealing: true }), skewed);
      expect(byActiveKeys).to.deep.equal(plain); // nothing is ever active when a key is routed
      expect(Math.max(...plain)).to.be.at.least(1000);
      expect(Math.max(...byRecentRecords)).to.be.at.most(Math.ceil((1.1 * 2000) / 3) + 1);
    });

    it('without decay, no lane ever exceeds (1+ε) × the mean by more than one record (any keys, lanes, ε)', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 6 }),
          fc.constantFrom(0.02, 0.1, 0.5),
          fc.array(fc.oneof(fc.constant('hot'), fc.constantFrom('a', 'b', 'c', 'd', 'e')), { maxLength: 300 }),
          (laneCount, epsilon, keysInOrder) => {
            const t = new LaneTable<number>({ laneCount, routing: 'consistent', virtualNodesPerLane: 16, boundedLoadEpsilon: epsilon, boundedLoadMeasure: 'recent-records', loadHalfLifeRecords: 1e12, stealing: false, minStealQueued: 2 });
            let total = 0;
            for (const key of keysInOrder) {
              const lane = t.enqueue(key, 0);
              t.take(lane);
              t.done(lane, 0);
              total++;
              const most = Math.max(...t.stats().map((s) => s.records));
              expect(most).to.be.at.most(((1 + epsilon) * total) / laneCount + 1 + 1e-6);
            }
          },
        ),
        { numRuns: 100 },
      );
    });

    it('forgets old load: after the hot lane cools for many half-lives its key returns to its ring owner', () => {
      const t = table({ boundedLoadEpsilon: 0.1, boundedLoadMeasure: 'recent-records', loadHalfLifeRecords: 10, stealing: false });
      const owner = new HashRing(3, 64).laneOf('hot');
      runAtOnce(t, Array.from({ length: 300 }, () => 'hot'));
      // Keys owned by other lanes load them for a while; the hot key is idle meanwhile.
      const others = keys.filter((k) => new HashRing(3, 64).laneOf(k) !== owner).slice(0, 50);
      runAtOnce(t, Array.from({ length: 200 }, (_, i) => others[i % others.length]!));
      expect(t.enqueue('hot', 0)).to.equal(owner);
    });
  });

  describe('HotKeyTracker', () => {
    it('finds the heavy hitters and decays old counts', () => {
      const tracker = new HotKeyTracker(8, 1000);
      for (let i = 0; i < 3000; i++) tracker.record(i % 3 === 0 ? 'hot' : `cold-${i}`);
      const [top] = tracker.top(1);
      expect(top?.key).to.equal('hot');
      expect(top!.share).to.be.within(0.25, 0.6);
    });
  });
});
