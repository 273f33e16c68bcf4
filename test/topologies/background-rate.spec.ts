import { expect } from 'chai';
import fc from 'fast-check';
import { BackgroundRate, poissonUpperTail } from '../../topologies/model-monitor/background-rate.js';

describe('model-monitor: background rate of outliers (min-evidence)', () => {
  it('Poisson upper tail: exact on small cases, within [0, 1], decreasing in k', () => {
    expect(poissonUpperTail(0, 3)).to.equal(1);
    expect(poissonUpperTail(1, 2)).to.be.closeTo(1 - Math.exp(-2), 1e-12);
    expect(poissonUpperTail(2, 0.5)).to.be.closeTo(1 - Math.exp(-0.5) * 1.5, 1e-12);
    fc.assert(fc.property(fc.integer({ min: 1, max: 200 }), fc.double({ min: 1e-6, max: 300, noNaN: true }), (k, lambda) => {
      const p = poissonUpperTail(k, lambda);
      return p >= 0 && p <= 1 && poissonUpperTail(k + 1, lambda) <= p + 1e-12;
    }));
  });

  it("a busy key's usual outliers are not surprising; the same count on a quiet key, or many more on the busy one, is", () => {
    const rate = new BackgroundRate({ windowMs: 60_000, alpha: 1e-3 });
    const outlier = [{ field: 'output_tokens', direction: 'HIGH' }];
    // 20 windows of history: the busy key has 500 records a window, 1% of them outlying.
    for (let w = 0; w < 20; w++) {
      for (let i = 0; i < 500; i++) rate.note('hot', 'consumer', w * 60_000 + i, i % 100 === 0 ? outlier : []);
      for (let i = 0; i < 3; i++) rate.note('cold', 'research', w * 60_000 + i, []);
    }
    const w = 20 * 60_000;
    for (let i = 0; i < 500; i++) rate.note('hot', 'consumer', w + i, i < 6 ? outlier : []);
    for (let i = 0; i < 3; i++) rate.note('cold', 'research', w + i, outlier);
    expect(rate.surprising('hot', 'consumer', 'output_tokens', 'HIGH', w, 6)).to.equal(false);
    expect(rate.surprising('cold', 'research', 'output_tokens', 'HIGH', w, 3)).to.equal(true);
    const w2 = 21 * 60_000;
    for (let i = 0; i < 500; i++) rate.note('hot', 'consumer', w2 + i, i < 100 ? outlier : []);
    expect(rate.surprising('hot', 'consumer', 'output_tokens', 'HIGH', w2, 100)).to.equal(true);
  });

  it("a rare segment's incident trickling one finding per window adds up over the lookback windows", () => {
    const single = new BackgroundRate({ windowMs: 60_000, alpha: 1e-3, lookbackWindows: 1 });
    const horizon = new BackgroundRate({ windowMs: 60_000, alpha: 1e-3, lookbackWindows: 5 });
    for (const rate of [single, horizon]) {
      // Background: a busy key with a 2% outlier rate sets the all-keys rate.
      for (let i = 0; i < 20_000; i++) rate.note('hot', 'consumer', i * 60, i % 50 === 0 ? [{ field: 'confidence', direction: 'LOW' }] : []);
      // The rare key: two records a window, one of them anomalous, five windows running.
      for (let w = 0; w < 5; w++) for (let i = 0; i < 2; i++) rate.note('m', 'rare', 1_200_000 + w * 60_000 + i, i === 0 ? [{ field: 'confidence', direction: 'LOW' }] : []);
    }
    const last = 1_200_000 + 4 * 60_000;
    expect(single.surprising('m', 'rare', 'confidence', 'LOW', last, 1, 2)).to.equal(false);
    expect(horizon.surprising('m', 'rare', 'confidence', 'LOW', last, 1, 2)).to.equal(true);
  });

  it("an incident's findings noted after its mention's window (records run ahead of the watermark) are not its background", () => {
    const rate = new BackgroundRate({ windowMs: 60_000, alpha: 1e-3, lookbackWindows: 1 });
    const finding = [{ field: 'output_tokens', direction: 'HIGH' }];
    // A quiet key: 20 windows of 3 clean records, then an incident: 3 of 3 records anomalous for 10 windows.
    for (let w = 0; w < 20; w++) {
      for (let i = 0; i < 3; i++) rate.note('m', 'rare', w * 60_000 + i, []);
      for (let i = 0; i < 200; i++) rate.note('hot', 'consumer', w * 60_000 + i, []);
    }
    for (let w = 20; w < 30; w++) for (let i = 0; i < 3; i++) rate.note('m', 'rare', w * 60_000 + i, finding);
    // Judged once all of it has been noted: the first incident window is still surprising.
    expect(rate.surprising('m', 'rare', 'output_tokens', 'HIGH', 20 * 60_000, 3, 2)).to.equal(true);
    expect(rate.evidence('m', 'rare', 'output_tokens', 'HIGH', 20 * 60_000, 3).pastRate).to.be.below(0.05);
  });

  it('checks its options', () => {
    expect(() => new BackgroundRate({ windowMs: 60_000, alpha: 0 })).to.throw(RangeError, /alpha/);
    expect(() => new BackgroundRate({ windowMs: 60_000, alpha: 0.01, lookbackWindows: 0 })).to.throw(RangeError, /lookbackWindows/);
  });
});
