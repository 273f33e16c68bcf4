import { expect } from 'chai';
import fc from 'fast-check';
import { from, map, Subject, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { adaptiveSample, type AdaptiveSampleOptions, type Sampled, type SamplingStrategy } from '../../operators/adaptive-sample.js';
import { SeededRandom } from '../../core/random.js';
import { testEnvelope, type Envelope } from '../../core/envelope.js';
import type { SettlementOutcome } from '../../core/settlement.js';

const newScheduler = () =>
  new TestScheduler((actual, expected) => {
    expect(actual).to.deep.equal(expected);
  });

/** Envelope whose watermark equals its event time (one partition, no lateness). */
const at = (value: string, eventTimeMs: number, onSettled?: (o: SettlementOutcome) => void) =>
  testEnvelope(value, { eventTimeMs, onSettled });

const show = (e: Envelope<Sampled<string>>) => `${e.value.record}:${e.value.inclusionWeight}:${e.value.strategy}`;

describe('adaptiveSample', () => {
  const reservoirOfOne: AdaptiveSampleOptions<string> = {
    strategy: { kind: 'uniform-reservoir' },
    budget: { recordsPerWindow: 1 },
    windowMs: 10,
    random: SeededRandom.fromSeed(1),
  };

  describe('the rxjs checklist', () => {
    it('completes on empty', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold<Envelope<string>>('|').pipe(adaptiveSample(reservoirOfOne))).toBe('|');
      });
    });

    it('stays silent on never', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold<Envelope<string>>('-').pipe(adaptiveSample(reservoirOfOne))).toBe('-');
      });
    });

    it('holds one value until complete, then emits it with weight 1', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const source = cold('a|', { a: at('a', 1) });
        expectObservable(source.pipe(adaptiveSample(reservoirOfOne), map(show))).toBe('-(x|)', { x: 'a:1:uniform-reservoir' });
      });
    });

    it('emits a window when the watermark closes it (many values)', () => {
      const outcomes: string[] = [];
      const record = (o: SettlementOutcome) => outcomes.push(o);
      newScheduler().run(({ cold, expectObservable }) => {
        const source = cold('a-b-c-d|', { a: at('a', 1, record), b: at('b', 4, record), c: at('c', 12, record), d: at('d', 25, record) });
        // c's watermark 12 closes [0,10): one of a, b (weight 2); d's 25 closes [10,20): c (weight 1).
        expectObservable(source.pipe(adaptiveSample(reservoirOfOne), map((e) => e.value.inclusionWeight))).toBe('----x-y(z|)', {
          x: 2,
          y: 1,
          z: 1,
        });
      });
      expect(outcomes).to.deep.equal(['dropped']);
    });

    it('passes an error on at once, without emitting held records', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const source = cold('a-#', { a: at('a', 1) }, new Error('boom'));
        expectObservable(source.pipe(adaptiveSample(reservoirOfOne))).toBe('--#', undefined, new Error('boom'));
      });
    });

    it('keeps emitting closed windows on a never-ending source', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const source = cold('a-b-', { a: at('a', 1), b: at('b', 15) });
        expectObservable(source.pipe(adaptiveSample(reservoirOfOne), map(show))).toBe('--x-', { x: 'a:1:uniform-reservoir' });
      });
    });

    it('unsubscribes from the source on early unsubscribe', () => {
      newScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot('-a-b-c-d-', { a: at('a', 1), b: at('b', 11), c: at('c', 21), d: at('d', 31) });
        const result = source.pipe(adaptiveSample(reservoirOfOne), map(show));
        expectObservable(result, '^----!').toBe('---x--', { x: 'a:1:uniform-reservoir' });
        expectSubscriptions(source.subscriptions).toBe('^----!');
      });
    });

    it('errors when a callback throws', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const source = cold('a-b|', { a: at('a', 1), b: at('b', 2) });
        const options: AdaptiveSampleOptions<string> = {
          ...reservoirOfOne,
          strategy: {
            kind: 'adaptive',
            scoreOf: (v) => {
              if (v === 'b') throw new Error('bad score');
              return 1;
            },
          },
        };
        expectObservable(source.pipe(adaptiveSample(options))).toBe('--#', undefined, new Error('bad score'));
      });
    });
  });

  describe('strategies', () => {
    it('samples at a rate with weight 1 / rate and an optional cap per window', () => {
      const envelopes = Array.from({ length: 1000 }, (_, i) => at(`r${i}`, i));
      const out: Envelope<Sampled<string>>[] = [];
      from(envelopes)
        .pipe(adaptiveSample({ strategy: { kind: 'uniform-rate' }, budget: { fraction: 0.1 }, windowMs: 1000 }))
        .subscribe((e) => out.push(e));
      expect(out.length).to.be.within(70, 130);
      expect(out.every((e) => e.value.inclusionWeight === 10 && e.value.strategy === 'uniform-rate')).to.equal(true);
      const capped: unknown[] = [];
      from(envelopes.map((e) => at(e.value, e.eventTimeMs)))
        .pipe(adaptiveSample({ strategy: { kind: 'uniform-rate', maxRecordsPerWindow: 5 }, budget: { fraction: 0.5 }, windowMs: 100 }))
        .subscribe((e) => capped.push(e));
      expect(capped).to.have.length(50);
    });

    it('uniform-rate: a record of a window the watermark has closed is late, and does not reopen its count', () => {
      // Found by the budget property: with 1 ms windows the watermark closes the window on its first
      // record, and every later record at the same time opened a fresh count past the cap.
      const dropped: number[] = [];
      const envelopes = Array.from({ length: 8 }, (_, i) => testEnvelope('a', { eventTimeMs: 1000, watermarkMs: 1000, offset: i, onSettled: (o) => o === 'dropped' && dropped.push(i) }));
      const out: unknown[] = [];
      from(envelopes)
        .pipe(adaptiveSample({ strategy: { kind: 'uniform-rate', maxRecordsPerWindow: 7 }, budget: { fraction: 1 }, windowMs: 1 }))
        .subscribe((e) => out.push(e));
      expect(out).to.have.length(1);
      expect(dropped).to.deep.equal([1, 2, 3, 4, 5, 6, 7]);
    });

    it('stratifies with a floor for small strata (congressional)', () => {
      const envelopes = Array.from({ length: 1000 }, (_, i) => at(i % 100 === 0 ? `rare${i}` : `common${i}`, i));
      const out: Envelope<Sampled<string>>[] = [];
      from(envelopes)
        .pipe(
          adaptiveSample({
            strategy: { kind: 'stratified', stratumOf: (v) => (v.startsWith('rare') ? 'rare' : 'common') },
            budget: { recordsPerWindow: 20 },
            windowMs: 10_000,
          }),
        )
        .subscribe((e) => out.push(e));
      expect(out).to.have.length(20);
      const rare = out.filter((e) => e.value.group === 'rare');
      // congressional: max(1/2, 0.01) and max(1/2, 0.99) → the rare stratum gets 20 · 0.5 / 1.49 ≈ 6.71 slots
      // (6 or 7, rounded at random), but holds 10; its records were included with probability 6.71 / 10.
      expect(rare.length).to.be.oneOf([6, 7]);
      expect(rare[0]!.value.inclusionWeight).to.be.closeTo(10 / ((20 * 0.5) / 1.49), 1e-9);
    });

    it('favours high preliminary scores, within the floor and cap (adaptive)', () => {
      const envelopes = Array.from({ length: 2000 }, (_, i) => at(i % 50 === 0 ? `hot${i}` : `cold${i}`, i));
      const out: Envelope<Sampled<string>>[] = [];
      from(envelopes)
        .pipe(
          adaptiveSample({
            strategy: { kind: 'adaptive', scoreOf: (v) => (v.startsWith('hot') ? 5 : 0), weightFloor: 0.1, weightCap: 5 },
            budget: { fraction: 0.05 },
            windowMs: 100_000,
            random: SeededRandom.fromSeed(3),
          }),
        )
        .subscribe((e) => out.push(e));
      expect(out).to.have.length(100);
      const hot = out.filter((e) => e.value.record.startsWith('hot'));
      // 40 hot records at weight 5 against 1960 at 0.1: the hot ones take most of their places.
      expect(hot.length).to.be.greaterThan(25);
      expect(out.length - hot.length).to.be.greaterThan(20); // the floor keeps normal traffic visible
    });

    it('sends records whose window has closed to the late-record side output', () => {
      const late: string[] = [];
      const out: string[] = [];
      from([at('a', 1), at('b', 30), at('c', 2)])
        .pipe(adaptiveSample({ ...reservoirOfOne, lateRecords: (e) => late.push(e.value) }))
        .subscribe((e) => out.push(e.value.record));
      expect(late).to.deep.equal(['c']);
      expect(out).to.deep.equal(['a', 'b']);
    });

    it('runs the doc-comment example', () => {
      interface InferenceEvent {
        readonly preliminaryScore: number;
        readonly segment: string;
      }
      const envelopes = Array.from({ length: 200 }, (_, i) =>
        testEnvelope<InferenceEvent>({ preliminaryScore: i % 7, segment: `s${i % 3}` }, { eventTimeMs: i * 100 }),
      );
      const out: Envelope<Sampled<InferenceEvent>>[] = [];
      from(envelopes)
        .pipe(
          adaptiveSample<InferenceEvent>({
            strategy: { kind: 'adaptive', scoreOf: (event) => event.preliminaryScore, shardOf: (event) => event.segment },
            budget: { fraction: 0.05 },
            windowMs: 10_000,
            random: SeededRandom.fromSeed(42),
          }),
        )
        .subscribe((e) => out.push(e));
      expect(out.length).to.be.within(8, 12);
      expect(out.every((e) => e.value.strategy === 'adaptive' && e.value.inclusionWeight >= 1)).to.equal(true);
    });
  });

  describe('options', () => {
    it('rejects bad options at factory time, naming the option and range', () => {
      const bad = (options: object, pattern: RegExp) =>
        expect(() => adaptiveSample(options as AdaptiveSampleOptions<string>)).to.throw(pattern);
      bad({ strategy: { kind: 'uniform-reservoir' }, budget: { fraction: 0 } }, /option 'budget.fraction' must be a number in \(0, 1\]/);
      bad({ strategy: { kind: 'uniform-reservoir' }, budget: { recordsPerWindow: -1 } }, /option 'budget.recordsPerWindow' must be an integer in \[0/);
      bad({ strategy: { kind: 'nope' }, budget: { fraction: 0.1 } }, /option 'strategy.kind' must be one of/);
      bad({ strategy: { kind: 'stratified' }, budget: { fraction: 0.1 } }, /option 'strategy.stratumOf' must be a function/);
      bad({ strategy: { kind: 'adaptive', scoreOf: () => 1, weightFloor: 0 }, budget: { fraction: 0.1 } }, /weightFloor/);
      bad({ strategy: { kind: 'adaptive', scoreOf: () => 1, weightCap: 0.01 }, budget: { fraction: 0.1 } }, /option 'strategy.weightCap' must be/);
      bad({ strategy: { kind: 'uniform-rate' }, budget: { recordsPerWindow: 3 } }, /needs budget \{ fraction \}/);
      bad({ strategy: { kind: 'uniform-reservoir' }, budget: { fraction: 0.1 }, windowMs: 0 }, /windowMs must be an integer/);
      bad({ strategy: { kind: 'uniform-reservoir' }, budget: { fraction: 0.1 }, maxOpenWindows: 0 }, /option 'maxOpenWindows' must be an integer in \[1, 10000\]/);
      bad({ strategy: { kind: 'uniform-reservoir' }, budget: { fraction: 0.1 }, random: Math.random }, /random must be a SeededRandom/);
    });
  });

  describe('properties', () => {
    const strategies: SamplingStrategy<string>[] = [
      { kind: 'uniform-rate', maxRecordsPerWindow: 7 },
      { kind: 'uniform-reservoir' },
      { kind: 'stratified', stratumOf: (v) => v.slice(0, 1), allocation: 'equal', maxStrata: 3 },
      { kind: 'stratified', stratumOf: (v) => v.slice(0, 1), allocation: 'proportional' },
      { kind: 'stratified', stratumOf: (v) => v.slice(0, 1) },
      { kind: 'adaptive', scoreOf: (v) => v.length, shardOf: (v) => v.slice(0, 1), algorithm: 'a-res' },
      { kind: 'adaptive', scoreOf: (v) => v.length },
      { kind: 'priority', weightOf: (v) => v.length, shardOf: (v) => v.slice(0, 1) },
    ];
    const streams = fc.record({
      strategy: fc.constantFrom(...strategies),
      budget: fc.oneof(
        fc.record({ fraction: fc.double({ min: 0.01, max: 1, noNaN: true }) }),
        fc.record({ recordsPerWindow: fc.integer({ min: 0, max: 12 }) }),
      ),
      windowMs: fc.integer({ min: 1, max: 50 }),
      maxHeldRecords: fc.integer({ min: 1, max: 40 }),
      maxOpenWindows: fc.integer({ min: 1, max: 3 }),
      records: fc.array(fc.record({ value: fc.stringMatching(/^[a-e]{1,6}$/), dtMs: fc.integer({ min: -20, max: 30 }), lagMs: fc.integer({ min: 0, max: 20 }) }), { maxLength: 120 }),
      seed: fc.integer(),
    });

    it('never exceeds the budget in any window and settles every input exactly once', () => {
      fc.assert(
        fc.property(streams, (run) => {
          const strategy = run.strategy.kind === 'uniform-rate' && !('fraction' in run.budget) ? { kind: 'uniform-reservoir' as const } : run.strategy;
          const settled = new Map<number, number>();
          let clockMs = 1000;
          let maxSeenMs = -Infinity;
          const envelopes = run.records.map((r, i) => {
            clockMs += r.dtMs;
            maxSeenMs = Math.max(maxSeenMs, clockMs);
            return testEnvelope(r.value, {
              eventTimeMs: clockMs,
              watermarkMs: maxSeenMs - r.lagMs,
              offset: i,
              onSettled: () => settled.set(i, (settled.get(i) ?? 0) + 1),
            });
          });
          const seenPerWindow = new Map<number, number>();
          for (const e of envelopes) {
            const start = Math.floor(e.eventTimeMs / run.windowMs);
            seenPerWindow.set(start, (seenPerWindow.get(start) ?? 0) + 1);
          }
          const chosenPerWindow = new Map<number, number>();
          let completed = false;
          from(envelopes)
            .pipe(
              adaptiveSample<string>({
                strategy,
                budget: run.budget,
                windowMs: run.windowMs,
                maxHeldRecords: run.maxHeldRecords,
                maxOpenWindows: run.maxOpenWindows,
                random: SeededRandom.fromSeed(run.seed),
              }),
            )
            .subscribe({
              next: (e) => {
                const start = Math.floor(e.eventTimeMs / run.windowMs);
                chosenPerWindow.set(start, (chosenPerWindow.get(start) ?? 0) + 1);
                e.settlement.settle('delivered');
              },
              complete: () => (completed = true),
            });
          for (const [start, chosen] of chosenPerWindow) {
            const seen = seenPerWindow.get(start) ?? 0;
            const budget =
              strategy.kind === 'uniform-rate'
                ? 7
                : 'recordsPerWindow' in run.budget
                  ? run.budget.recordsPerWindow
                  : Math.ceil(run.budget.fraction * seen);
            if (chosen > budget) return false;
          }
          return completed && envelopes.every((_, i) => settled.get(i) === 1);
        }),
        { numRuns: 300 },
      );
    });

    it('never exceeds the budget in any window when records arrive in event-time order', () => {
      fc.assert(
        fc.property(streams, (run) => {
          if (run.strategy.kind === 'uniform-rate') return true;
          let t = 0;
          const envelopes = run.records.map((r) => {
            t += Math.abs(r.dtMs);
            return testEnvelope(r.value, { eventTimeMs: t });
          });
          const seenPerWindow = new Map<number, number>();
          for (const e of envelopes) {
            const start = Math.floor(e.eventTimeMs / run.windowMs);
            seenPerWindow.set(start, (seenPerWindow.get(start) ?? 0) + 1);
          }
          const chosenPerWindow = new Map<number, number>();
          from(envelopes)
            .pipe(adaptiveSample<string>({ strategy: run.strategy, budget: run.budget, windowMs: run.windowMs, maxHeldRecords: run.maxHeldRecords, random: SeededRandom.fromSeed(run.seed) }))
            .subscribe((e) => {
              const start = Math.floor(e.eventTimeMs / run.windowMs);
              chosenPerWindow.set(start, (chosenPerWindow.get(start) ?? 0) + 1);
            });
          for (const [start, chosen] of chosenPerWindow) {
            const seen = seenPerWindow.get(start)!;
            const budget = 'recordsPerWindow' in run.budget ? run.budget.recordsPerWindow : Math.ceil(run.budget.fraction * seen);
            if (chosen > budget) return false;
          }
          return true;
        }),
        { numRuns: 300 },
      );
    });

    it('emits the same sample on a replay (seeded)', () => {
      const run = () => {
        const out: string[] = [];
        const subject = new Subject<Envelope<string>>();
        (subject as Observable<Envelope<string>>)
          .pipe(adaptiveSample({ strategy: { kind: 'adaptive', scoreOf: (v) => v.length }, budget: { recordsPerWindow: 5 }, windowMs: 100, random: SeededRandom.fromSeed(9) }))
          .subscribe((e) => out.push(show(e)));
        for (let i = 0; i < 300; i++) subject.next(at('x'.repeat(1 + (i % 4)) + i, i));
        subject.complete();
        return out;
      };
      expect(run()).to.deep.equal(run());
    });
  });
});
