import { expect } from 'chai';
import { createDetector, RangeBreakoutDetector } from '../../../operators/parallel-detect/index.js';

describe('range-breakout', () => {
  const feed = (detector: RangeBreakoutDetector, values: readonly number[]): number[] => values.map((v, i) => detector.score(i * 1000, v));

  it('scores 0 during warm-up, an edge ≈ 0.833, and grows with the break-out', () => {
    const d = new RangeBreakoutDetector({ warmUpPoints: 4, suppressPoints: 0 });
    expect(feed(d, [0, 10, 5, 5])).to.deep.equal([0, 0, 0, 0]);
    const [inside, edge, beyond, far] = feed(d, [5, 10, 15, 100]);
    expect(inside).to.be.closeTo(0, 1e-12); // the middle of the range
    expect(edge).to.be.closeTo(50 / 60, 1e-12);
    expect(beyond).to.be.greaterThan(edge!);
    expect(far).to.be.greaterThan(beyond!).and.lessThan(1);
  });

  it('looks at the last rangePoints points only', () => {
    const d = new RangeBreakoutDetector({ warmUpPoints: 2, rangePoints: 3, suppressPoints: 0 });
    feed(d, [100, 0, 1, 2, 1]); // 100 has left the window
    expect(d.score(0, 3)).to.be.greaterThan(d.threshold);
  });

  it('halves a break-out that does not beat the recent ones, so an incident alarms once', () => {
    const d = new RangeBreakoutDetector({ warmUpPoints: 4, suppressPoints: 10 });
    const scores = feed(d, [0, 1, 0, 1, 5, 4.9, 30]);
    expect(scores[4]).to.be.greaterThan(d.threshold);
    expect(scores[5]).to.be.lessThan(d.threshold); // still beyond the old range, but weaker than the first
    expect(scores[6]).to.be.greaterThan(d.threshold); // a new, bigger break-out
  });

  it('treats a constant window as a zero range: the constant is an edge, anything else breaks out', () => {
    const d = new RangeBreakoutDetector({ warmUpPoints: 3, suppressPoints: 0 });
    feed(d, [7, 7, 7]);
    expect(d.score(0, 7)).to.be.lessThan(d.threshold);
    expect(d.score(0, 7.001)).to.be.greaterThan(d.threshold).and.lessThan(1);
  });

  it('checks its options', () => {
    expect(() => createDetector('range-breakout', { rangePoints: 1 })).to.throw(RangeError, /rangePoints/);
    expect(() => createDetector('range-breakout', { bogus: 1 })).to.throw(RangeError, /unknown option 'bogus'/);
  });
});

describe('multiscale-breakout', () => {
  it('adds the all-time break-out to the recent one: an all-time extreme outranks a merely recent one', () => {
    const options = { warmUpPoints: 4, rangePoints: 4, suppressPoints: 0 };
    const allTime = createDetector('multiscale-breakout', options);
    const recentOnly = createDetector('multiscale-breakout', options);
    [0, 1, 0, 1].forEach((v, i) => allTime.score(i, v));
    [50, 1, 0, 1, 0].forEach((v, i) => recentOnly.score(i, v)); // 50 left the recent window, not the history
    // Same recent window [0, 1] (the last four points) and the same value: only the history differs.
    expect(allTime.score(9, 2)).to.be.greaterThan(recentOnly.score(9, 2));
  });

  it('halves a break-out that does not beat the recent ones', () => {
    const d = createDetector('multiscale-breakout', { warmUpPoints: 4, suppressPoints: 10 });
    const scores = [0, 1, 0, 1, 5, 4.9].map((v, i) => d.score(i, v));
    expect(scores[4]).to.be.greaterThan(d.threshold);
    expect(scores[5]).to.be.lessThan(d.threshold);
  });
});
