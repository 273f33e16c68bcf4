import { expect } from 'chai';
import { createDetector, detectorNames } from '../../../operators/parallel-detect/index.js';

describe('detectors/ewma-zscore', () => {
  it('scores 0 during warm-up, low on normal data, near 1 on a spike', () => {
    const d = createDetector('ewma-zscore', { warmUpPoints: 20 });
    const scores: number[] = [];
    for (let i = 0; i < 200; i++) scores.push(d.score(i * 1000, 10 + Math.sin(i)));
    expect(scores.slice(0, 20).every((s) => s === 0)).to.equal(true);
    expect(Math.max(...scores.slice(20))).to.be.lessThan(0.99);
    const spike = d.observe(200_000, 30);
    expect(spike.score).to.be.greaterThan(d.threshold);
    expect(spike.direction).to.equal('HIGH');
    expect(d.observe(201_000, -10).direction).to.equal('LOW');
  });

  it('scores only from earlier data: a spike scores the same whatever follows', () => {
    const a = createDetector('ewma-zscore');
    const b = createDetector('ewma-zscore');
    for (let i = 0; i < 100; i++) {
      a.score(i, i % 7);
      b.score(i, i % 7);
    }
    expect(a.score(100, 50)).to.equal(b.score(100, 50));
  });

  it('snapshot/restore continues identically', () => {
    const a = createDetector('ewma-zscore');
    for (let i = 0; i < 60; i++) a.score(i, (i * 37) % 11);
    const b = createDetector('ewma-zscore');
    b.restore(JSON.parse(JSON.stringify(a.snapshot())));
    for (let i = 60; i < 90; i++) expect(b.score(i, (i * 37) % 11)).to.equal(a.score(i, (i * 37) % 11));
  });

  it('ignores non-finite values', () => {
    const d = createDetector('ewma-zscore', { warmUpPoints: 2 });
    d.score(0, 1);
    d.score(1, 2);
    expect(d.score(2, Number.NaN)).to.equal(0);
    expect(Number.isFinite(d.score(3, 1.5))).to.equal(true);
  });

  it('rejects unknown names and options with a message naming them', () => {
    expect(() => createDetector('nope')).to.throw(RangeError, /unknown detector 'nope'.*ewma-zscore/);
    expect(() => createDetector('ewma-zscore', { alpha: 2 })).to.throw(RangeError, /'alpha' must be in \(0, 1\]/);
    expect(() => createDetector('ewma-zscore', { alhpa: 0.1 })).to.throw(RangeError, /unknown option 'alhpa'/);
    expect(detectorNames).to.include('ewma-zscore');
  });
});
