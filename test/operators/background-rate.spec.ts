import { expect } from 'chai';
import fc from 'fast-check';
import { map, Subject, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { testEnvelope, type Envelope } from '../../core/envelope.js';
import type { SettlementOutcome } from '../../core/settlement.js';
import { BackgroundTable, backgroundRate, poissonUpperTail, type BackgroundTableOptions } from '../../operators/background-rate.js';

const table = (options: Partial<BackgroundTableOptions> = {}): BackgroundTable =>
  new BackgroundTable({ windowMs: 60_000, alpha: 1e-3, priorRecords: 50, lookbackWindows: 5, keepWindows: 64, maxKeys: 100_000, ...options });

const newScheduler = () =>
  new TestScheduler((actual, expected) => {
    expect(actual).to.deep.equal(expected);
  });

describe('operators/backgroundRate', () => {
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
    const rate = table({ lookbackWindows: 5 });
    // 20 windows of history: the busy key has 500 records a window, 1% of them outlying.
    for (let w = 0; w < 20; w++) {
      for (let i = 0; i < 500; i++) rate.note('hot', w * 60_000 + i, i % 100 === 0 ? ['tokens HIGH'] : []);
      for (let i = 0; i < 3; i++) rate.note('cold', w * 60_000 + i, []);
    }
    const w = 20 * 60_000;
    for (let i = 0; i < 500; i++) rate.note('hot', w + i, i < 6 ? ['tokens HIGH'] : []);
    for (let i = 0; i < 3; i++) rate.note('cold', w + i, ['tokens HIGH']);
    expect(rate.surprising('hot', 'tokens HIGH', w, 6, 1)).to.equal(false);
    expect(rate.surprising('cold', 'tokens HIGH', w, 3, 1)).to.equal(true);
    const w2 = 21 * 60_000;
    for (let i = 0; i < 500; i++) rate.note('hot', w2 + i, i < 100 ? ['tokens HIGH'] : []);
    expect(rate.surprising('hot', 'tokens HIGH', w2, 100, 1)).to.equal(true);
  });

  it("a rare key's incident trickling one finding per window adds up over the lookback windows", () => {
    const single = table({ lookbackWindows: 1 });
    const horizon = table({ lookbackWindows: 5 });
    for (const rate of [single, horizon]) {
      // Background: a busy key with a 2% outlier rate sets the all-keys rate.
      for (let i = 0; i < 20_000; i++) rate.note('hot', i * 60, i % 50 === 0 ? ['confidence LOW'] : []);
      // The rare key: two records a window, one of them anomalous, five windows running.
      for (let w = 0; w < 5; w++) for (let i = 0; i < 2; i++) rate.note('rare', 1_200_000 + w * 60_000 + i, i === 0 ? ['confidence LOW'] : []);
    }
    const last = 1_200_000 + 4 * 60_000;
    expect(single.surprising('rare', 'confidence LOW', last, 1, 2)).to.equal(false);
    expect(horizon.surprising('rare', 'confidence LOW', last, 1, 2)).to.equal(true);
  });

  it("an incident's findings noted after the window asked about (records run ahead of the watermark) are not its background", () => {
    const rate = table({ lookbackWindows: 1 });
    // A quiet key: 20 windows of 3 clean records, then an incident: 3 of 3 records anomalous for 10 windows.
    for (let w = 0; w < 20; w++) {
      for (let i = 0; i < 3; i++) rate.note('rare', w * 60_000 + i, []);
      for (let i = 0; i < 200; i++) rate.note('hot', w * 60_000 + i, []);
    }
    for (let w = 20; w < 30; w++) for (let i = 0; i < 3; i++) rate.note('rare', w * 60_000 + i, ['tokens HIGH']);
    // Judged once all of it has been noted: the first incident window is still surprising.
    expect(rate.surprising('rare', 'tokens HIGH', 20 * 60_000, 3, 2)).to.equal(true);
    expect(rate.evidence('rare', 'tokens HIGH', 20 * 60_000, 3).pastRate).to.be.below(0.05);
  });

  it('a signal shown twice by one record counts once; counts are kept for keepWindows windows', () => {
    const rate = table({ lookbackWindows: 1, keepWindows: 2 });
    rate.note('k', 0, ['x', 'x']);
    expect(rate.evidence('k', 'x', 0, 0)).to.include({ findings: 1, records: 1 });
    rate.note('k', 60_000, []);
    rate.note('k', 120_000, []);
    expect(rate.windows).to.equal(2);
    expect(rate.evidence('k', 'x', 0, 0)).to.include({ findings: 0, records: 0 });
  });

  it('checks its options at creation, naming the option and its range', () => {
    expect(() => backgroundRate({ windowMs: 60_000, alpha: 0 })).to.throw(RangeError, /backgroundRate: option 'alpha' must be a number in \(0, 1\], got 0/);
    expect(() => backgroundRate({ windowMs: 0, alpha: 0.01 })).to.throw(RangeError, /option 'windowMs' must be an integer in \[1, /);
    expect(() => backgroundRate({ windowMs: 60_000, alpha: 0.01, lookbackWindows: 0 })).to.throw(RangeError, /option 'lookbackWindows' must be an integer in \[1, 64\]/);
    expect(() => backgroundRate({ windowMs: 60_000, alpha: 0.01, keepWindows: 4, lookbackWindows: 5 })).to.throw(RangeError, /option 'lookbackWindows' must be an integer in \[1, 4\], got 5/);
    expect(() => backgroundRate({ windowMs: 60_000, alpha: 0.01, priorRecords: 0 })).to.throw(RangeError, /option 'priorRecords'/);
    expect(() => backgroundRate({ windowMs: 60_000, alpha: 0.01, minEvents: 0 })).to.throw(RangeError, /option 'minEvents'/);
    expect(() => backgroundRate({ windowMs: 60_000, alpha: 0.01, maxKeys: 0 })).to.throw(RangeError, /option 'maxKeys'/);
    expect(() => backgroundRate({ windowMs: 60_000, alpha: 0.01 }).note(undefined as never)).to.throw(TypeError, /option 'note\(observe\)' must be a function/);
  });

  it('the pair of operators: note() counts at the record\'s event time, keepSurprising() keeps the surprising and settles the others as dropped', () => {
    const background = backgroundRate({ windowMs: 60_000, alpha: 1e-3, lookbackWindows: 1, minEvents: 2 });
    const noted = new Subject<Envelope<{ key: string; outlier: boolean }>>();
    const passed: number[] = [];
    noted.pipe(background.note((r) => ({ key: r.key, signals: r.outlier ? ['HIGH'] : [] }))).subscribe(() => passed.push(1));
    for (let w = 0; w < 10; w++) {
      for (let i = 0; i < 100; i++) noted.next(testEnvelope({ key: 'hot', outlier: i < 2 }, { eventTimeMs: w * 60_000 + i }));
      for (let i = 0; i < 3; i++) noted.next(testEnvelope({ key: 'quiet', outlier: w === 9 }, { eventTimeMs: w * 60_000 + i }));
    }
    expect(passed).to.have.length(1030); // every record passes note()
    const outcomes = new Map<string, SettlementOutcome>();
    const mentions = new Subject<Envelope<{ key: string; count: number; sketch?: boolean }>>();
    const kept: string[] = [];
    mentions
      .pipe(background.keepSurprising((m) => (m.sketch ? undefined : { key: m.key, signal: 'HIGH', windowStartMs: 9 * 60_000, count: m.count })))
      .subscribe((e) => kept.push(e.value.key));
    for (const mention of [{ key: 'hot', count: 2 }, { key: 'quiet', count: 3 }, { key: 'hot', count: 2, sketch: true }]) {
      mentions.next(testEnvelope(mention, { onSettled: (outcome) => outcomes.set(`${mention.key}${mention.sketch ? '+' : ''}`, outcome) }));
    }
    expect(kept).to.deep.equal(['quiet', 'hot']); // the hot key's two a window are its background; untested ones pass
    expect(outcomes.get('hot')).to.equal('dropped');
    expect(outcomes.has('quiet')).to.equal(false);
  });

  describe('marbles (rxjs checklist): keepSurprising', () => {
    // Twenty windows of history, then window 20: the busy key 'b' shows HIGH on a quarter of its
    // records as always, the quiet key 'q' on a quarter for the first time.
    const WINDOW = 20 * 60_000;
    const check = (marble: string, expected: string, unsub?: string) =>
      newScheduler().run(({ cold, hot, expectObservable }) => {
        const src: Observable<string> = unsub ? hot(marble) : cold(marble);
        const background = backgroundRate({ windowMs: 60_000, alpha: 0.01, lookbackWindows: 1 });
        for (let w = 0; w <= 20; w++) {
          for (let i = 0; i < 100; i++) {
            background.table.note('b', w * 60_000 + i, i % 4 === 0 ? ['HIGH'] : []);
            background.table.note('q', w * 60_000 + i, w === 20 && i % 4 === 0 ? ['HIGH'] : []);
          }
        }
        const out = src.pipe(
          map((key) => testEnvelope(key, { eventTimeMs: WINDOW })),
          background.keepSurprising((key) => ({ key, signal: 'HIGH', windowStartMs: WINDOW, count: 25 })),
          map((e) => e.value),
        );
        if (unsub) expectObservable(out, unsub).toBe(expected);
        else expectObservable(out).toBe(expected);
      });
    it('empty', () => check('|', '|'));
    it('never', () => check('-', '-'));
    it('one value: a quiet key\'s findings are surprising', () => check('q|', 'q|'));
    it('many: the busy key\'s usual findings are dropped', () => check('qbq|', 'q-q|'));
    it('error', () => check('qb#', 'q-#'));
    it('never-ending', () => check('qq-', 'qq-'));
    it('early unsubscribe', () => check('q-q', 'q', '^-!'));
    it('a queryOf that throws errors the stream', () => {
      const boom = new Error('boom');
      newScheduler().run(({ cold, expectObservable }) => {
        const out = cold('q|').pipe(
          map((key) => testEnvelope(key)),
          backgroundRate({ windowMs: 60_000, alpha: 0.01 }).keepSurprising(() => {
            throw boom;
          }),
        );
        expectObservable(out).toBe('#', undefined, boom);
      });
    });
  });

  it('property: a count is surprising only with at least minEvents findings, and more findings are never less surprising', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('a', 'b'), fc.integer({ min: 0, max: 600_000 }), fc.boolean()), { maxLength: 300 }),
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 1, max: 5 }),
        (records, window, count, minEvents) => {
          const rate = table({ alpha: 0.05, lookbackWindows: 2, maxKeys: 1000 });
          for (const [key, t, finding] of records) rate.note(key, t, finding ? ['x'] : []);
          const evidence = rate.evidence('a', 'x', window * 60_000, count);
          if (rate.surprising('a', 'x', window * 60_000, count, minEvents)) expect(evidence.findings).to.be.at.least(minEvents);
          expect(rate.chance('a', 'x', window * 60_000, count + 1)).to.be.at.most(rate.chance('a', 'x', window * 60_000, count) + 1e-12);
          expect(rate.windows).to.be.at.most(64);
        },
      ),
      { numRuns: 200 },
    );
  });
});
