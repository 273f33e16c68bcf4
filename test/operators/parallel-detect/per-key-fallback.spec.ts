import { expect } from 'chai';
import { perKeyDetector } from '../../../operators/parallel-detect/index.js';

interface Ev {
  model_id: string;
  segment: string;
  latency_ms: number;
}

describe('detectors: perKeyDetector hierarchical back-off (fallbackKeyOf)', () => {
  const history = (detector: ReturnType<typeof perKeyDetector<Ev>>): void => {
    for (let i = 0; i < 500; i++) detector.update({ model_id: 'm', segment: 'common', latency_ms: 100 + 5 * Math.sin(i) }, i * 1000);
  };

  it("scores a cold key (a rare segment) against its model's baseline; without the back-off it scores nothing", () => {
    const withFallback = perKeyDetector<Ev>({ detector: 'ewma-zscore', fields: ['latency_ms'], fallbackKeyOf: (e) => e.model_id, fallbackUntilPoints: 30 });
    const without = perKeyDetector<Ev>({ detector: 'ewma-zscore', fields: ['latency_ms'] });
    history(withFallback);
    history(without);
    const incident = { model_id: 'm', segment: 'rare', latency_ms: 400 };
    expect(withFallback.update(incident, 500_000)).to.have.length(1);
    expect(without.update(incident, 500_000)).to.deep.equal([]);
  });

  it("hands over to the key's own detector after fallbackUntilPoints, and snapshots both levels", () => {
    const detector = perKeyDetector<Ev>({ detector: 'ewma-zscore', fields: ['latency_ms'], fallbackKeyOf: (e) => e.model_id, fallbackUntilPoints: 40 });
    history(detector);
    // The rare segment runs at 3× the model's latency all along: normal for it, once it has its own baseline.
    const rare = (i: number): Ev => ({ model_id: 'm', segment: 'rare', latency_ms: 300 + 10 * Math.sin(i) });
    expect(detector.update(rare(0), 600_000)).to.have.length(1); // cold: the model's baseline says HIGH
    for (let i = 1; i < 200; i++) detector.update(rare(i), 600_000 + i * 1000);
    expect(detector.update(rare(200), 900_000)).to.deep.equal([]);
    const copy = perKeyDetector<Ev>({ detector: 'ewma-zscore', fields: ['latency_ms'], fallbackKeyOf: (e) => e.model_id, fallbackUntilPoints: 40 });
    copy.restore(detector.snapshot());
    expect(copy.update(rare(201), 901_000)).to.deep.equal(detector.update(rare(201), 901_000));
  });

  it('checks its options', () => {
    expect(() => perKeyDetector<Ev>({ detector: 'ewma-zscore', fallbackUntilPoints: 0 })).to.throw(RangeError, /fallbackUntilPoints/);
  });
});
