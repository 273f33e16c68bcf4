import { expect } from 'chai';
import fc from 'fast-check';
import { map, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { testEnvelope } from '../../core/envelope.js';
import { SeededRandom } from '../../core/random.js';
import { RobustMoments, robustZScore, type RobustZScoreOptions } from '../../operators/robust-z-score.js';

interface Call {
  readonly model: string;
  readonly segment: string;
  readonly latencyMs: number;
}

const call = (latencyMs: number, segment = 'rare', model = 'm'): Call => ({ model, segment, latencyMs });
const OPTIONS: RobustZScoreOptions<Call> = {
  keyOf: (c) => `${c.model}\u0000${c.segment}`,
  fallbackKeyOf: (c) => c.model,
  fields: [{ name: 'latency_ms', valueOf: (c) => c.latencyMs }],
};
const moments = (overrides: Partial<ConstructorParameters<typeof RobustMoments>[0]> = {}) =>
  new RobustMoments({ fieldCount: 1, alpha: 0.005, warmupPoints: 20, clipSigmas: 2, maxKeys: 100_000, ...overrides });
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const newScheduler = () =>
  new TestScheduler((actual, expected) => {
    expect(actual).to.deep.equal(expected);
  });

describe('operators/robustZScore', () => {
  it('an incident keeps scoring high: heavy-tailed noise does not inflate the variance, the shift is not learnt away', () => {
    const random = SeededRandom.fromSeed(5);
    const scorer = moments();
    const score = (latencyMs: number): number => scorer.score('m|rare', 'm', [latencyMs]);
    // Normal traffic around 100 ms (sd 10) with a 1% tail of 20× spikes.
    const normal: number[] = [];
    for (let i = 0; i < 2000; i++) normal.push(score(random.nextFloat() < 0.01 ? 2000 : 100 + 10 * random.nextGaussian()));
    // An incident: +40 ms (4 sd) for 50 records.
    const incident: number[] = [];
    for (let i = 0; i < 50; i++) incident.push(score(140 + 10 * random.nextGaussian()));
    // A plain fast EWMA (alpha 0.02, no clip) scored both alike (the spikes inflated the variance).
    expect(median(normal.slice(1000))).to.be.below(1.5);
    expect(median(incident)).to.be.greaterThan(3);
    // A sampling weight of (z / 3)² then favours the incident's records more than 4 to 1.
    expect((median(incident) / median(normal.slice(1000))) ** 2).to.be.greaterThan(4);
    expect(moments().score('m|rare', 'm', [100])).to.equal(0); // not warmed up: 0
  });

  it('a cold key is scored against its fallback, which learns every record; without a fallback it scores 0 until warm', () => {
    const scorer = moments();
    const plain = moments();
    for (let i = 0; i < 100; i++) {
      scorer.score(`m|busy`, 'm', [100 + (i % 5)]);
      plain.score(`m|busy`, undefined, [100 + (i % 5)]);
    }
    expect(scorer.score('m|new', 'm', [160])).to.be.greaterThan(10);
    expect(plain.score('m|new', undefined, [160])).to.equal(0);
    expect(scorer.score('m|new', 'm', [Number.NaN])).to.equal(0); // non-finite: skipped
    expect(scorer.score('m|new', 'm', [undefined])).to.equal(0);
  });

  it('holds at most maxKeys keys, forgetting the least recently seen', () => {
    const scorer = moments({ maxKeys: 3, warmupPoints: 1 });
    for (const key of ['a', 'b', 'c', 'a', 'd']) scorer.score(key, undefined, [1]);
    expect(scorer.size).to.equal(3);
    // 'a', seen again, was kept: warm, it scores; 'b' was the least recently seen: forgotten, it is cold.
    expect(scorer.score('a', undefined, [2])).to.be.greaterThan(0);
    expect(scorer.score('b', undefined, [2])).to.equal(0);
    expect(scorer.size).to.equal(3);
  });

  it('checks its options at creation, naming the option and its range', () => {
    expect(() => robustZScore({ ...OPTIONS, alpha: 0 })).to.throw(RangeError, /robustZScore: option 'alpha' must be a number in \(0, 1\]/);
    expect(() => robustZScore({ ...OPTIONS, alpha: 1 })).to.throw(RangeError, /option 'alpha' must be a number in \(0, 1\)/);
    expect(() => robustZScore({ ...OPTIONS, warmupPoints: 0 })).to.throw(RangeError, /option 'warmupPoints' must be an integer in \[1, 1000000\]/);
    expect(() => robustZScore({ ...OPTIONS, clipSigmas: 0 })).to.throw(RangeError, /option 'clipSigmas'/);
    expect(() => robustZScore({ ...OPTIONS, maxKeys: 1.5 })).to.throw(RangeError, /option 'maxKeys'/);
    expect(() => robustZScore({ ...OPTIONS, fields: [] })).to.throw(RangeError, /option 'fields' must list 1 to 64 fields/);
    expect(() => robustZScore({ ...OPTIONS, fields: [OPTIONS.fields[0]!, OPTIONS.fields[0]!] })).to.throw(RangeError, /listed twice/);
    expect(() => robustZScore({ ...OPTIONS, keyOf: undefined as never })).to.throw(TypeError, /option 'keyOf' must be a function/);
  });

  describe('marbles (rxjs checklist)', () => {
    // Warm-up of 2 on a fresh key: a and b score 0 and are learnt (mean 100.05, variance 0.4975), c is
    // (130 − 100.05) / √0.4975 ≈ 42 standard deviations away.
    const values = { a: 100, b: 110, c: 130 };
    const check = (marble: string, expected: string, expectedValues: Record<string, number>, unsub?: string) =>
      newScheduler().run(({ cold, hot, expectObservable }) => {
        const src: Observable<number> = unsub ? hot(marble, values) : cold(marble, values);
        const out = src.pipe(
          map((latencyMs) => testEnvelope(call(latencyMs))),
          robustZScore<Call>({ ...OPTIONS, warmupPoints: 2 }),
          map((envelope) => Math.round(envelope.value.score)),
        );
        if (unsub) expectObservable(out, unsub).toBe(expected, expectedValues);
        else expectObservable(out).toBe(expected, expectedValues);
      });
    it('empty', () => check('|', '|', {}));
    it('never', () => check('-', '-', {}));
    it('one value: a cold key scores 0', () => check('a|', 'x|', { x: 0 }));
    it('many: cold records score 0, a far one once warm scores high', () => check('abc|', 'xyz|', { x: 0, y: 0, z: 42 }));
    it('error', () => check('ab#', 'xy#', { x: 0, y: 0 }));
    it('never-ending', () => check('ab-', 'xy-', { x: 0, y: 0 }));
    it('early unsubscribe', () => check('ab-c', 'xy', { x: 0, y: 0 }, '^-!'));
    it('a keyOf that throws errors the stream', () => {
      const boom = new Error('boom');
      newScheduler().run(({ cold, expectObservable }) => {
        const keyOf = (): string => {
          throw boom;
        };
        const out = cold('ab|', values).pipe(map((l) => testEnvelope(call(l))), robustZScore<Call>({ ...OPTIONS, keyOf }));
        expectObservable(out).toBe('#', undefined, boom);
      });
    });
  });

  it('each subscription starts clean', () => {
    const scorer = robustZScore<Call>({ ...OPTIONS, warmupPoints: 1 });
    const run = (): number[] => {
      const scores: number[] = [];
      newScheduler().run(({ cold }) => {
        cold('abc|', { a: 100, b: 101, c: 150 }).pipe(map((l) => testEnvelope(call(l))), scorer).subscribe((e) => scores.push(e.value.score));
      });
      return scores;
    };
    expect(run()).to.deep.equal(run());
  });

  it('property: scores are finite and ≥ 0 for any finite values; a key and its fallback both cold score 0', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.double({ min: -1e9, max: 1e9, noNaN: true })), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 30 }),
        (records, warmupPoints) => {
          const scorer = moments({ warmupPoints });
          const seenByFallback = new Map<string, number>();
          for (const [segment, value] of records) {
            const fallbackSeen = seenByFallback.get('m') ?? 0;
            const score = scorer.score(`m|${segment}`, 'm', [value]);
            expect(Number.isFinite(score) && score >= 0).to.equal(true);
            if (fallbackSeen < warmupPoints) expect(score).to.equal(0);
            seenByFallback.set('m', fallbackSeen + 1);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
