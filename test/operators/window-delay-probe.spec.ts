import { expect } from 'chai';
import fc from 'fast-check';
import { delayWhen, map, Subject, timer, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { testEnvelope, type Envelope } from '../../core/envelope.js';
import { windowDelayProbe, WindowDelayTracker, type WindowDelay } from '../../operators/window-delay-probe.js';

const WINDOW_MS = 60_000;

const newScheduler = () =>
  new TestScheduler((actual, expected) => {
    expect(actual).to.deep.equal(expected);
  });

describe('operators/windowDelayProbe', () => {
  it('WindowDelayTracker: delayed when the window closes inside, late on entry when it had closed before, in time otherwise', () => {
    const tracker = new WindowDelayTracker(WINDOW_MS);
    const slow = testEnvelope('slow', { eventTimeMs: 10_000, watermarkMs: 5_000 });
    tracker.entered(slow);
    const fast = testEnvelope('fast', { eventTimeMs: 130_000, watermarkMs: 125_000 });
    tracker.entered(fast);
    expect(tracker.inputWatermarkMs).to.equal(125_000);
    expect(tracker.left(fast)).to.equal('in-time');
    expect(tracker.left(slow)).to.equal('delayed'); // [0, 60 000) closed at 125 000 while it was inside
    const old = testEnvelope('old', { eventTimeMs: 5_000, watermarkMs: 5_000 });
    tracker.entered(old);
    expect(tracker.left(old)).to.equal('late-on-entry');
    expect(tracker.left(old)).to.equal(undefined); // left once already
    expect(tracker.left(testEnvelope('never entered'))).to.equal(undefined);
  });

  it('the window closes at end − 1 (the rule by which windowed operators call a record late)', () => {
    const tracker = new WindowDelayTracker(WINDOW_MS);
    const a = testEnvelope('a', { eventTimeMs: 0, watermarkMs: 0 });
    tracker.entered(a);
    tracker.entered(testEnvelope('b', { eventTimeMs: 59_999, watermarkMs: 59_998 }));
    expect(tracker.left(a)).to.equal('in-time'); // [0, 60 000) is still open at 59 998
    const c = testEnvelope('c', { eventTimeMs: 0, watermarkMs: 0 });
    tracker.entered(c);
    tracker.entered(testEnvelope('d', { eventTimeMs: 60_000, watermarkMs: 59_999 }));
    expect(tracker.left(c)).to.equal('delayed'); // … and closed at 59 999
  });

  it('the pair of operators: counts and calls onLeave per record, passing every record on unchanged', () => {
    const probe = windowDelayProbe({ windowSizeMs: WINDOW_MS });
    const entering = new Subject<Envelope<string>>();
    const inside: Envelope<string>[] = [];
    entering.pipe(probe.enter<string>()).subscribe((e) => inside.push(e));
    entering.next(testEnvelope('a', { eventTimeMs: 10_000, watermarkMs: 5_000 }));
    entering.next(testEnvelope('b', { eventTimeMs: 130_000, watermarkMs: 125_000 }));
    const leaving = new Subject<Envelope<string>>();
    const verdicts: Array<[string, WindowDelay | undefined]> = [];
    const left: Envelope<string>[] = [];
    leaving.pipe(probe.leave<string>((e, delay) => verdicts.push([e.value, delay]))).subscribe((e) => left.push(e));
    leaving.next(inside[1]!);
    leaving.next(inside[0]!);
    leaving.next(testEnvelope('stranger'));
    expect(verdicts).to.deep.equal([['b', 'in-time'], ['a', 'delayed'], ['stranger', undefined]]);
    expect(left).to.deep.equal([inside[1], inside[0], left[2]]);
    expect(probe.counts).to.deep.equal({ inTime: 1, delayed: 1, lateOnEntry: 0 });
    expect(probe.inputWatermarkMs).to.equal(125_000);
  });

  it('checks its options at creation, naming the option and its range', () => {
    expect(() => windowDelayProbe({ windowSizeMs: 0 })).to.throw(RangeError, /windowDelayProbe: option 'windowSizeMs' must be an integer in \[1, /);
    expect(() => windowDelayProbe({ windowSizeMs: 1.5 })).to.throw(RangeError, 'windowSizeMs');
    expect(() => windowDelayProbe(undefined as never)).to.throw(TypeError, /options are required/);
    expect(() => windowDelayProbe({ windowSizeMs: 10 }).leave('no' as never)).to.throw(TypeError, /option 'leave\(onLeave\)' must be a function/);
  });

  describe('marbles (rxjs checklist): enter, a section that holds a record, leave', () => {
    // a (t = 10 s, w = 5 s) is held 3 frames by the section; b (t = 130 s, w = 125 s) passes at once:
    // by the time a leaves, its window [0, 60 s) has closed upstream. Each value leaves as its verdict.
    const values = { a: 10_000, b: 130_000 };
    const verdicts = { d: 'delayed', i: 'in-time' };
    const check = (marble: string, expected: string, unsub?: string) =>
      newScheduler().run(({ cold, hot, expectObservable }) => {
        const src: Observable<number> = unsub ? hot(marble, values) : cold(marble, values);
        const probe = windowDelayProbe({ windowSizeMs: WINDOW_MS });
        const seen = new Map<number, WindowDelay | undefined>();
        const out = src.pipe(
          map((t) => testEnvelope(t, { eventTimeMs: t, watermarkMs: t - 5_000 })),
          probe.enter<number>(),
          delayWhen((e) => timer(e.value === values.a ? 3 : 0)),
          probe.leave<number>((e, delay) => seen.set(e.value, delay)),
          map((e) => seen.get(e.value)),
        );
        if (unsub) expectObservable(out, unsub).toBe(expected, verdicts);
        else expectObservable(out).toBe(expected, verdicts);
      });
    it('empty', () => check('|', '|'));
    it('never', () => check('-', '-'));
    it('one value: nothing closes its window', () => check('b|', 'i|'));
    it('many: the held record is delayed past its window', () => check('ab|', '-i-(d|)'));
    it('error', () => check('b#', 'i#'));
    it('never-ending', () => check('b-b-', 'i-i-'));
    it('early unsubscribe', () => check('b-b', 'i', '^-!'));
    it('an onLeave that throws errors the stream', () => {
      const boom = new Error('boom');
      newScheduler().run(({ cold, expectObservable }) => {
        const probe = windowDelayProbe({ windowSizeMs: WINDOW_MS });
        const out = cold('b|', values).pipe(
          map((t) => testEnvelope(t, { eventTimeMs: t })),
          probe.enter<number>(),
          probe.leave<number>(() => {
            throw boom;
          }),
        );
        expectObservable(out).toBe('#', undefined, boom);
      });
    });
  });

  it('property: a section that lets each record out before the next comes in never delays one; every record is counted once', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1e7 }), fc.integer({ min: -1e4, max: 1e4 })), { maxLength: 200 }), (records) => {
        const probe = windowDelayProbe({ windowSizeMs: WINDOW_MS });
        const input = new Subject<Envelope<number>>();
        input.pipe(probe.enter<number>(), probe.leave<number>()).subscribe();
        records.forEach(([eventTimeMs, skewMs], i) => input.next(testEnvelope(i, { eventTimeMs, watermarkMs: eventTimeMs + skewMs })));
        const { inTime, delayed, lateOnEntry } = probe.counts;
        expect(delayed).to.equal(0);
        expect(inTime + lateOnEntry).to.equal(records.length);
      }),
    );
  });
});
