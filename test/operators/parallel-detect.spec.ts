import { expect } from 'chai';
import fc from 'fast-check';
import { from, map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { testEnvelope, type Envelope } from '../../core/envelope.js';
import { DetectCounters, parallelDetect, type DetectFailure, type Detection, type RecordDetector } from '../../operators/parallel-detect.js';
import { featureForestDetector, perKeyDetector, type Finding } from '../../operators/parallel-detect/index.js';

const newScheduler = () =>
  new TestScheduler((actual, expected) => {
    expect(actual).to.deep.equal(expected);
  });

interface Ev {
  readonly event_id: string;
  readonly model_id: string;
  readonly segment: string;
  readonly latency_ms: number;
  readonly features?: number[];
}
const ev = (i: number, latency_ms: number, model_id = 'm'): Ev => ({ event_id: `e${i}`, model_id, segment: 's', latency_ms });
const env = (e: Ev, onSettled?: () => void) => testEnvelope(e, { eventTimeMs: Number(e.event_id.slice(1)) * 1000, ...(onSettled ? { onSettled } : {}) });

/** Flags latency above 100 as HIGH; optionally throws on 666. */
const threshold = (name = 'thr', shadow = false): RecordDetector<Ev> => ({
  name,
  fields: ['latency_ms'],
  shadow,
  update: (e) => {
    if (e.latency_ms === 666) throw new Error('cursed');
    return e.latency_ms > 100 ? [{ field: 'latency_ms', direction: 'HIGH', score: 1, detector: name, shadow }] : [];
  },
  snapshot: () => ({}),
  restore: () => {},
});

const label = (d: Envelope<Detection<Ev>>) => `${d.value.event.event_id}:${d.value.findings.length}${d.value.error ? '!' : ''}`;

describe('parallelDetect', () => {
  it('example: a per-key EWMA z-score finds the latency spike', async () => {
    const envelopes = Array.from({ length: 60 }, (_, i) => env(ev(i, i === 50 ? 500 : 100 + (i % 5))));
    const found: string[] = [];
    await new Promise<void>((resolve) =>
      from(envelopes)
        .pipe(parallelDetect({ detectors: [perKeyDetector<Ev>({ detector: 'ewma-zscore', fields: ['latency_ms'] })] }))
        .subscribe({ next: (d) => d.value.findings.forEach((f) => found.push(`${d.value.event.event_id}:${f.field}:${f.direction}`)), complete: resolve }),
    );
    expect(found).to.deep.equal(['e50:latency_ms:HIGH']);
  });

  describe('marbles (rxjs checklist)', () => {
    const values = { a: env(ev(1, 50)), b: env(ev(2, 500)), c: env(ev(3, 666)) };
    const labels = { A: 'e1:0', B: 'e2:1', C: 'e3:0!' };
    const run = (marble: string, expected: string, unsub?: string) =>
      newScheduler().run(({ hot, cold, expectObservable }) => {
        const src = unsub ? hot(marble, values) : cold(marble, values);
        const out = src.pipe(parallelDetect({ detectors: [threshold()] }), map(label));
        if (unsub) expectObservable(out, unsub).toBe(expected, labels);
        else expectObservable(out).toBe(expected, labels);
      });
    it('empty', () => run('|', '|'));
    it('never', () => run('-', '-'));
    it('one value', () => run('a|', 'A|'));
    it('many', () => run('ab-a|', 'AB-A|'));
    it('error', () => run('a#', 'A#'));
    it('never-ending', () => run('a-b-', 'A-B-'));
    it('early unsubscribe', () => run('a-b-a-', 'A-B', '^--!'));
    it('a detector that throws flags the record; the stream goes on', () => run('cab|', 'CAB|'));
  });

  it('times out a slow asynchronous detector and flags the record, or dead-letters it', () => {
    const slow: RecordDetector<Ev> = { name: 'slow', fields: [], shadow: false, update: () => new Promise<Finding[]>(() => {}), snapshot: () => ({}), restore: () => {} };
    const counters = new DetectCounters();
    newScheduler().run(({ cold, expectObservable }) => {
      const out = cold('a|', { a: env(ev(1, 500)) }).pipe(parallelDetect({ detectors: [threshold(), slow], timeoutMs: 5, counters }), map((d) => d.value.error ?? 'ok'));
      expectObservable(out).toBe('-----(x|)', { x: '(async): DetectTimeoutError: detectors did not answer within 5 ms' });
    });
    expect(counters).to.include({ timeouts: 1, failures: 1 });
    const dead: DetectFailure<Ev>[] = [];
    newScheduler().run(({ cold, expectObservable }) => {
      const out = cold('a|', { a: env(ev(1, 500)) }).pipe(parallelDetect({ detectors: [slow], timeoutMs: 5, onFailure: 'dead-letter', deadLetter: (f) => dead.push(f) }));
      expectObservable(out).toBe('-----|');
    });
    expect(dead).to.have.length(1);
  });

  it('shadow detectors are marked and compared with live ones (differential counters)', () => {
    const counters = new DetectCounters();
    const shadow: RecordDetector<Ev> = { ...threshold('new', true), update: (e) => (e.latency_ms > 40 ? [{ field: 'latency_ms', direction: 'HIGH', score: 0.9, detector: 'new', shadow: true }] : []) };
    const out: Detection<Ev>[] = [];
    from([env(ev(1, 50)), env(ev(2, 500)), env(ev(3, 10))])
      .pipe(parallelDetect({ detectors: [threshold(), shadow], counters, dropClean: true }))
      .subscribe((d) => out.push(d.value));
    expect(out.map((d) => d.findings.map((f) => `${f.detector}:${f.shadow}`))).to.deep.equal([['new:true'], ['thr:false', 'new:true']]);
    expect(counters).to.include({ records: 3, shadowOnly: 1, both: 1, liveOnly: 0 });
    expect(counters.findingsByDetector.get('new')).to.equal(2);
  });

  it('featureForestDetector names the deviant feature', () => {
    const det = featureForestDetector<Ev>({ forestOptions: { windowPoints: 30 } });
    let last: readonly Finding[] = [];
    for (let i = 0; i < 200; i++) {
      const r = det.update({ ...ev(i, 1), features: [Math.sin(i) * 0.1, Math.cos(i) * 0.1] }, i);
      if (Array.isArray(r)) last = r;
    }
    const r = det.update({ ...ev(201, 1), features: [0, 5] }, 201) as readonly Finding[];
    expect(r[0]?.field).to.equal('features[1]');
    void last;
  });

  it('validates options at the factory call, naming the option', () => {
    expect(() => parallelDetect<Ev>({ detectors: [] })).to.throw(RangeError, /'detectors' must be a non-empty array/);
    expect(() => parallelDetect<Ev>({ detectors: [threshold(), threshold()] })).to.throw(RangeError, /'thr' appears twice/);
    expect(() => parallelDetect<Ev>({ detectors: [threshold()], concurrency: Infinity })).to.throw(RangeError, /'concurrency' must be an integer in \[1, 4096\]/);
    expect(() => perKeyDetector({ detector: 'nope' })).to.throw(RangeError, /unknown detector 'nope'/);
    expect(() => perKeyDetector({ detector: 'mad', detectorOptions: { windowPoints: 1 } })).to.throw(RangeError, /windowPoints/);
  });

  it('perKeyDetector keeps state per model and survives a JSON snapshot/restore', () => {
    const a = perKeyDetector<Ev>({ detector: 'ewma-zscore', fields: ['latency_ms'], detectorOptions: { warmUpPoints: 5 } });
    for (let i = 0; i < 20; i++) {
      a.update(ev(i, 100 + (i % 3), 'm1'), i);
      a.update(ev(i, 1000 + (i % 3), 'm2'), i);
    }
    const b = perKeyDetector<Ev>({ detector: 'ewma-zscore', fields: ['latency_ms'], detectorOptions: { warmUpPoints: 5 } });
    b.restore(JSON.parse(JSON.stringify(a.snapshot())));
    expect(b.update(ev(21, 1001, 'm2'), 21)).to.deep.equal(a.update(ev(21, 1001, 'm2'), 21));
    expect((b.update(ev(22, 1000, 'm1'), 22) as Finding[])[0]?.direction).to.equal('HIGH');
  });

  it('properties: nothing lost, each settled once, concurrency bound respected (async detectors)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 700 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 5 }),
        fc.boolean(),
        async (latencies, concurrency, dropClean) => {
          const settled = new Array<number>(latencies.length).fill(0);
          let inFlight = 0;
          let maxInFlight = 0;
          const asyncDet: RecordDetector<Ev> = {
            ...threshold('async'),
            update: async (e) => {
              inFlight++;
              maxInFlight = Math.max(maxInFlight, inFlight);
              for (let i = 0; i < e.latency_ms % 4; i++) await Promise.resolve();
              inFlight--;
              return [];
            },
          };
          const out: string[] = [];
          await new Promise<void>((resolve, reject) =>
            from(latencies.map((l, i) => env(ev(i, l), () => settled[i]!++)))
              .pipe(parallelDetect({ detectors: [threshold(), asyncDet], concurrency, dropClean }))
              .subscribe({
                next: (d) => {
                  out.push(d.value.event.event_id);
                  d.settlement.settle('delivered');
                },
                error: reject,
                complete: resolve,
              }),
          );
          expect(settled.every((n) => n === 1)).to.equal(true);
          expect(maxInFlight).to.be.at.most(concurrency);
          const expectedOut = latencies.map((l, i) => ({ l, i })).filter(({ l }) => !dropClean || l > 100).map(({ i }) => `e${i}`);
          expect([...out].sort()).to.deep.equal([...expectedOut].sort());
        },
      ),
      { numRuns: 60 },
    );
  });
});
