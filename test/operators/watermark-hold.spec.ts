import { expect } from 'chai';
import fc from 'fast-check';
import { map, Subject, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { testEnvelope, type Envelope } from '../../core/envelope.js';
import { EventTimeHold, watermarkHold } from '../../operators/watermark-hold.js';

const newScheduler = () =>
  new TestScheduler((actual, expected) => {
    expect(actual).to.deep.equal(expected);
  });

describe('operators/watermarkHold', () => {
  it('EventTimeHold: a record leaves with a watermark below the oldest record still in flight; a settled record stops holding', () => {
    const hold = new EventTimeHold();
    const old = hold.enter(testEnvelope('old', { eventTimeMs: 1_000, watermarkMs: 900 }));
    const young = hold.enter(testEnvelope('young', { eventTimeMs: 70_000, watermarkMs: 65_000 }));
    expect(hold.leave(young).watermarkMs).to.equal(999);
    expect(hold.leave(old).watermarkMs).to.equal(900);
    const dropped = hold.enter(testEnvelope('dropped', { eventTimeMs: 5, watermarkMs: 0 }));
    dropped.settlement.settle('dropped');
    expect(hold.size).to.equal(0);
  });

  it('leave restores the original settlement, so settling downstream reaches the source once', () => {
    const outcomes: string[] = [];
    const hold = new EventTimeHold();
    const original = testEnvelope('a', { eventTimeMs: 10, onSettled: (outcome) => outcomes.push(outcome) });
    const left = hold.leave(hold.enter(original));
    expect(left.settlement).to.equal(original.settlement);
    left.settlement.settle('delivered');
    expect(outcomes).to.deep.equal(['delivered']);
    expect(hold.size).to.equal(0);
  });

  it('a record that did not pass enter leaves unchanged', () => {
    const envelope = testEnvelope('x', { eventTimeMs: 3, watermarkMs: 2 });
    expect(new EventTimeHold().leave(envelope)).to.equal(envelope);
  });

  it('the pair of operators: a record overtaking an older one leaves with the older one\'s hold', () => {
    const hold = watermarkHold();
    const entered = new Subject<Envelope<string>>();
    const inside: Envelope<string>[] = [];
    entered.pipe(hold.enter<string>()).subscribe((envelope) => inside.push(envelope));
    entered.next(testEnvelope('a', { eventTimeMs: 1, watermarkMs: 0 }));
    entered.next(testEnvelope('b', { eventTimeMs: 70, watermarkMs: 65 }));
    expect(hold.size).to.equal(2);
    const left: Envelope<string>[] = [];
    const leaving = new Subject<Envelope<string>>();
    leaving.pipe(hold.leave<string>()).subscribe((envelope) => left.push(envelope));
    leaving.next(inside[1]!);
    leaving.next(inside[0]!);
    expect(left.map((e) => [e.value, e.watermarkMs])).to.deep.equal([['b', 0], ['a', 0]]);
    expect(hold.size).to.equal(0);
  });

  it('checks maxHeldRecords at creation, naming the option and its range; one record too many errors the stream', () => {
    expect(() => watermarkHold({ maxHeldRecords: 0 })).to.throw(RangeError, /watermarkHold: option 'maxHeldRecords' must be an integer in \[1, /);
    expect(() => watermarkHold({ maxHeldRecords: 1.5 })).to.throw(RangeError, 'maxHeldRecords');
    const hold = watermarkHold({ maxHeldRecords: 2 });
    const input = new Subject<Envelope<number>>();
    let error: unknown;
    const passed: number[] = [];
    input.pipe(hold.enter<number>()).subscribe({ next: (e) => passed.push(e.value), error: (e: unknown) => (error = e) });
    for (const n of [1, 2, 3]) input.next(testEnvelope(n, { eventTimeMs: n }));
    expect(passed).to.deep.equal([1, 2]);
    expect(error).to.be.instanceOf(RangeError).with.property('message').that.includes('maxHeldRecords (2)');
  });

  describe('marbles (rxjs checklist): enter then leave', () => {
    const values = { a: 1, b: 20, c: 5 };
    const check = (marble: string, expected: string, unsub?: string) =>
      newScheduler().run(({ cold, hot, expectObservable }) => {
        const src: Observable<number> = unsub ? hot(marble, values) : cold(marble, values);
        const hold = watermarkHold();
        const out = src.pipe(
          map((t) => testEnvelope(t, { eventTimeMs: t, watermarkMs: t })),
          hold.enter<number>(),
          hold.leave<number>(),
          map((e) => e.watermarkMs),
        );
        if (unsub) expectObservable(out, unsub).toBe(expected, values);
        else expectObservable(out).toBe(expected, values);
      });
    it('empty', () => check('|', '|'));
    it('never', () => check('-', '-'));
    it('one value', () => check('a|', 'a|'));
    it('many: nothing else inside, each keeps its own watermark', () => check('abc|', 'abc|'));
    it('error', () => check('ab#', 'ab#'));
    it('never-ending', () => check('abc-', 'abc-'));
    it('early unsubscribe', () => check('ab-c', 'ab', '^-!'));
  });

  it('property: a leaving record\'s watermark is at most its own and below every record still inside; settled records stop counting', () => {
    type Op = { kind: 'enter'; eventTimeMs: number; watermarkMs: number } | { kind: 'leave' | 'settle'; pick: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('enter' as const), eventTimeMs: fc.integer({ min: 0, max: 1000 }), watermarkMs: fc.integer({ min: -1, max: 1000 }) }),
      fc.record({ kind: fc.constantFrom('leave' as const, 'settle' as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const hold = new EventTimeHold();
        const inside: Envelope<number>[] = [];
        for (const step of ops) {
          if (step.kind === 'enter') {
            inside.push(hold.enter(testEnvelope(0, { eventTimeMs: step.eventTimeMs, watermarkMs: step.watermarkMs })));
            continue;
          }
          if (inside.length === 0) continue;
          const [envelope] = inside.splice(step.pick % inside.length, 1);
          if (step.kind === 'settle') {
            envelope!.settlement.settle('dropped');
            continue;
          }
          const left = hold.leave(envelope!);
          expect(left.watermarkMs).to.be.at.most(envelope!.watermarkMs);
          for (const other of inside) expect(left.watermarkMs).to.be.below(other.eventTimeMs);
        }
        expect(hold.size).to.equal(inside.length);
      }),
    );
  });
});
