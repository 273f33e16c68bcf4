import { expect } from 'chai';
import fc from 'fast-check';
import { EMPTY, from, map, NEVER, Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { banditBudget, type ArmFeedback, type BanditBudgetOptions, type BudgetAllocation, type Sampled } from '../../operators/bandit-budget.js';
import { SeededRandom } from '../../core/random.js';
import { testEnvelope, type Envelope } from '../../core/envelope.js';

const newScheduler = () =>
  new TestScheduler((actual, expected) => {
    expect(actual).to.deep.equal(expected);
  });

const at = (value: string, eventTimeMs: number) => testEnvelope(value, { eventTimeMs });

const twoArms = (feedback = NEVER as BanditBudgetOptions<string>['feedback']): BanditBudgetOptions<string> => ({
  arms: [
    { name: 'uniform', strategy: { kind: 'uniform-reservoir' } },
    { name: 'long', strategy: { kind: 'adaptive', scoreOf: (v) => v.length, weightCap: 100 } },
  ],
  budget: { recordsPerEpoch: 2 },
  epochMs: 10,
  feedback,
  floorShare: 0.5, // each arm exactly one record per epoch: deterministic marbles
  random: SeededRandom.fromSeed(1),
});

describe('banditBudget', () => {
  describe('the rxjs checklist', () => {
    it('completes on empty', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold<Envelope<string>>('|').pipe(banditBudget(twoArms()))).toBe('|');
      });
    });

    it('stays silent on never', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold<Envelope<string>>('-').pipe(banditBudget(twoArms()))).toBe('-');
      });
    });

    it('emits one value on complete, once, attributed to the first arm that chose it', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const source = cold('a|', { a: at('a', 1) });
        expectObservable(source.pipe(banditBudget(twoArms()), map((e) => `${e.value.record}:${e.value.strategy}:${e.value.inclusionWeight}`))).toBe('-(x|)', {
          x: 'a:uniform:1',
        });
      });
    });

    it('closes an epoch by watermark (many values): one record per arm, never more than the budget', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const source = cold('abc-d----|', { a: at('a', 1), b: at('bbbbbbbbbbbbbbbbbbbb', 2), c: at('c', 3), d: at('d', 12) });
        const result = source.pipe(banditBudget(twoArms()), map((e) => e.value.strategy));
        // Epoch [0,10) closes at d: 'long' takes the long record; 'uniform' takes one of a, b, c.
        expectObservable(result.pipe(map(() => 'x'))).toBe('----(xx)-(x|)');
      });
    });

    it('passes a source error on at once', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold('a#', { a: at('a', 1) }).pipe(banditBudget(twoArms()))).toBe('-#');
      });
    });

    it('passes a feedback error on', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const feedback = cold<ArmFeedback>('--#');
        expectObservable(cold('a---', { a: at('a', 1) }).pipe(banditBudget(twoArms(feedback)))).toBe('--#');
      });
    });

    it('keeps emitting epochs on a never-ending source', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const source = cold('a-b-', { a: at('a', 1), b: at('b', 15) });
        expectObservable(source.pipe(banditBudget(twoArms()), map((e) => e.value.record))).toBe('--x-', { x: 'a' });
      });
    });

    it('unsubscribes from the source and the feedback on early unsubscribe', () => {
      newScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot<Envelope<string>>('-a-b-c-', { a: at('a', 1), b: at('b', 11), c: at('c', 21) });
        const feedback = hot<ArmFeedback>('-------');
        expectObservable(source.pipe(banditBudget(twoArms(feedback)), map((e) => e.value.record)), '^---!').toBe('---x', { x: 'a' });
        expectSubscriptions(source.subscriptions).toBe('^---!');
        expectSubscriptions(feedback.subscriptions).toBe('^---!');
      });
    });

    it('errors when an arm callback throws', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const options: BanditBudgetOptions<string> = {
          ...twoArms(),
          arms: [{ name: 'bad', strategy: { kind: 'adaptive', scoreOf: () => { throw new Error('bad score'); } } }],
          floorShare: 0,
        };
        expectObservable(cold('a', { a: at('a', 1) }).pipe(banditBudget(options))).toBe('#', undefined, new Error('bad score'));
      });
    });
  });

  it('moves budget to the arm that yields mentions, and reports each epoch as a decision', () => {
    const feedback = new Subject<ArmFeedback>();
    const decisions: BudgetAllocation[] = [];
    const source = new Subject<Envelope<string>>();
    const out: Envelope<Sampled<string>>[] = [];
    source
      .pipe(
        banditBudget({
          arms: [
            { name: 'uniform', strategy: { kind: 'uniform-reservoir' } },
            { name: 'long', strategy: { kind: 'adaptive', scoreOf: (v) => v.length } },
          ],
          budget: { fraction: 0.1 },
          epochMs: 1000,
          feedback,
          random: SeededRandom.fromSeed(5),
          onAllocation: (d) => decisions.push(d),
        }),
      )
      .subscribe((e) => {
        out.push(e);
        // Downstream: only long records make mentions.
        feedback.next({ arm: e.value.strategy, mentions: e.value.record.startsWith('long') ? 1 : 0, cost: 1 });
      });
    for (let i = 0; i < 20_000; i++) source.next(at(i % 10 === 0 ? `long-record-${i}` : `r${i}`, i));
    source.complete();
    expect(decisions).to.have.length(20);
    for (const d of decisions) {
      expect(d.arms.reduce((sum, a) => sum + a.records, 0)).to.equal(d.budgetRecords);
      expect(d.arms.reduce((sum, a) => sum + a.emitted, 0)).to.be.at.most(d.budgetRecords);
    }
    // 'long' yields ≈ 0.2 mentions per record against 0.1 for 'uniform'.
    const longShares = decisions.slice(-10).map((d) => d.arms.find((a) => a.arm === 'long')!.share);
    expect(longShares.reduce((a, b) => a + b, 0) / longShares.length).to.be.greaterThan(0.75);
  });

  it('settles every input exactly once and never exceeds the epoch budget (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ value: fc.stringMatching(/^[a-c]{1,8}$/), dtMs: fc.integer({ min: -10, max: 25 }) }), { maxLength: 100 }),
        fc.oneof(fc.record({ recordsPerEpoch: fc.integer({ min: 0, max: 6 }) }), fc.record({ fraction: fc.double({ min: 0.05, max: 1, noNaN: true }) })),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer(),
        (records, budget, maxOpenEpochs, maxHeldRecords, seed) => {
          const settled = new Map<number, number>();
          let t = 100;
          let watermark = -Infinity;
          const envelopes = records.map((r, i) => {
            t += r.dtMs;
            watermark = Math.max(watermark, t - 5);
            return testEnvelope(r.value, { eventTimeMs: t, watermarkMs: watermark, onSettled: () => settled.set(i, (settled.get(i) ?? 0) + 1) });
          });
          const decisions: BudgetAllocation[] = [];
          const emittedPerEpoch = new Map<number, number>();
          let completed = false;
          from(envelopes)
            .pipe(
              banditBudget({
                arms: [
                  { name: 'u', strategy: { kind: 'uniform-reservoir' } },
                  { name: 's', strategy: { kind: 'stratified', stratumOf: (v) => v[0]! } },
                  { name: 'p', strategy: { kind: 'priority', weightOf: (v) => v.length } },
                ],
                budget,
                epochMs: 20,
                feedback: EMPTY,
                maxOpenEpochs,
                maxHeldRecords,
                random: SeededRandom.fromSeed(seed),
                onAllocation: (d) => decisions.push(d),
              }),
            )
            .subscribe({
              next: (e) => {
                const epoch = Math.floor(e.eventTimeMs / 20);
                emittedPerEpoch.set(epoch, (emittedPerEpoch.get(epoch) ?? 0) + 1);
                e.settlement.settle('delivered');
              },
              complete: () => (completed = true),
            });
          const budgets = new Map(decisions.map((d) => [d.epochStartMs / 20, d.budgetRecords]));
          for (const [epoch, emitted] of emittedPerEpoch) if (emitted > (budgets.get(epoch) ?? -1)) return false;
          return completed && decisions.every((d) => d.arms.reduce((s, a) => s + a.records, 0) === d.budgetRecords) && envelopes.every((_, i) => settled.get(i) === 1);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('rejects bad options at factory time, naming the option and range', () => {
    const bad = (options: object, pattern: RegExp) => expect(() => banditBudget({ ...twoArms(), ...options } as BanditBudgetOptions<string>)).to.throw(pattern);
    bad({ arms: [] }, /arms must be a non-empty array/);
    bad({ arms: [{ name: 'x', strategy: { kind: 'uniform-rate' } }] }, /cannot be 'uniform-rate'/);
    bad({ arms: [{ name: 'x', strategy: { kind: 'uniform-reservoir' } }, { name: 'x', strategy: { kind: 'uniform-reservoir' } }] }, /unique/);
    bad({ budget: { recordsPerEpoch: 1.5 } }, /option 'budget.recordsPerEpoch' must be an integer in \[0, /);
    bad({ budget: { fraction: 2 } }, /option 'budget.fraction' must be a number in \(0, 1\]/);
    bad({ epochMs: -1 }, /epochMs must be an integer/);
    bad({ feedback: undefined }, /feedback must be an Observable/);
    bad({ discount: 1.5 }, /option 'discount' must be a number in \(0, 1\]/);
    bad({ maxOpenEpochs: 0 }, /option 'maxOpenEpochs' must be an integer in \[1, 10000\]/);
  });

  it('runs the doc-comment example', () => {
    interface Event {
      readonly score: number;
    }
    const envelopes = Array.from({ length: 100 }, (_, i) => testEnvelope<Event>({ score: i % 5 }, { eventTimeMs: i * 50 }));
    const feedback = new Subject<ArmFeedback>();
    const out: Envelope<Sampled<Event>>[] = [];
    from(envelopes)
      .pipe(
        banditBudget<Event>({
          arms: [
            { name: 'uniform', strategy: { kind: 'uniform-reservoir' } },
            { name: 'adaptive', strategy: { kind: 'adaptive', scoreOf: (event) => event.score } },
          ],
          budget: { recordsPerEpoch: 10 },
          epochMs: 1000,
          feedback,
          random: SeededRandom.fromSeed(7),
        }),
      )
      .subscribe((e) => out.push(e));
    expect(out.length).to.be.within(40, 50);
  });
});
