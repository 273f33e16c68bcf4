import { expect } from 'chai';
import fc from 'fast-check';
import { from, map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { testEnvelope, type Envelope } from '../../runtime/envelope.js';
import type { SettlementOutcome } from '../../runtime/settlement.js';
import type { Mention } from '../../schemas/types.generated.js';
import { DedupCounters, windowedDedup } from '../../operators/windowed-dedup.js';
import type { Detection } from '../../operators/parallel-detect.js';
import type { Direction, Finding } from '../../operators/detectors/index.js';
import { DistinctCounter } from '../../operators/dedup/index.js';

const newScheduler = () =>
  new TestScheduler((actual, expected) => {
    expect(actual).to.deep.equal(expected);
  });

interface Ev {
  readonly event_id: string;
  readonly model_id: string;
  readonly model_version: string;
  readonly tenant: string;
  readonly segment: string;
}
const finding = (field: string, direction: Direction, score = 0.99, shadow = false): Finding => ({ field, direction, score, detector: 'ewma-zscore', shadow });
const det = (
  id: string,
  eventTimeMs: number,
  findings: Finding[],
  opts: { watermarkMs?: number; model?: string; onSettled?: (o: SettlementOutcome) => void } = {},
): Envelope<Detection<Ev>> =>
  testEnvelope(
    { event: { event_id: id, model_id: opts.model ?? 'm', model_version: 'v1', tenant: 't', segment: 's' }, findings },
    { eventTimeMs, watermarkMs: opts.watermarkMs ?? eventTimeMs - 1, ...(opts.onSettled ? { onSettled: opts.onSettled } : {}) },
  );
const brief = (e: Envelope<Mention>) => `${e.value.field}:${e.value.direction}:${e.value.event_count}`;
const tumbling10 = { window: { kind: 'tumbling' as const, sizeMs: 10 } };

function run(envelopes: Envelope<Detection<Ev>>[], options = {}, counters?: DedupCounters): Envelope<Mention>[] {
  const out: Envelope<Mention>[] = [];
  from(envelopes).pipe(windowedDedup<Ev>(options, counters)).subscribe((m) => out.push(m));
  return out;
}

describe('windowedDedup', () => {
  it('example: cluster-aware keeps sub-signals apart; strict collapses them', () => {
    const input = () => [
      det('e1', 1, [finding('latency_ms', 'HIGH')]),
      det('e2', 3, [finding('latency_ms', 'HIGH', 0.999)]),
      det('e3', 4, [finding('confidence', 'LOW')]),
      det('e4', 12, [], { watermarkMs: 11 }),
    ];
    const clusterAware = run(input(), tumbling10);
    expect(clusterAware.map(brief)).to.deep.equal(['confidence:LOW:1', 'latency_ms:HIGH:2']);
    const m = clusterAware[1]!.value;
    expect(m).to.include({ window_start: 0, window_end: 10, model_id: 'm', model_version: 'v1', tenant: 't', segment: 's', score: 0.999, shadow: false, cluster_id: 'm|s|latency_ms|HIGH' });
    expect(m.evidence_event_ids).to.deep.equal(['e1', 'e2']);
    const strict = run(input(), { ...tumbling10, mode: 'strict' });
    expect(strict.map(brief)).to.deep.equal(['latency_ms:HIGH:3']);
    expect(strict[0]!.value.attributes['sub_signals']).to.equal('2');
  });

  describe('marbles (rxjs checklist)', () => {
    const values = {
      a: det('e1', 1, [finding('latency_ms', 'HIGH')]),
      b: det('e2', 2, [finding('latency_ms', 'HIGH')]),
      c: det('e3', 15, [finding('confidence', 'LOW')], { watermarkMs: 12 }),
    };
    const labels = { A: 'latency_ms:HIGH:1', B: 'latency_ms:HIGH:2', C: 'confidence:LOW:1' };
    const check = (marble: string, expected: string, unsub?: string) =>
      newScheduler().run(({ cold, hot, expectObservable }) => {
        const src = unsub ? hot(marble, values) : cold(marble, values);
        const out = src.pipe(windowedDedup<Ev>(tumbling10), map(brief));
        if (unsub) expectObservable(out, unsub).toBe(expected, labels);
        else expectObservable(out).toBe(expected, labels);
      });
    it('empty', () => check('|', '|'));
    it('never', () => check('-', '-'));
    it('one value: flushed on completion', () => check('a|', '-(A|)'));
    it('many: a window is emitted when the watermark passes its end', () => check('ab-c|', '---B(C|)'));
    it('error: held mentions are not emitted', () => check('ab#', '--#'));
    it('never-ending', () => check('abc-', '--B-'));
    it('early unsubscribe', () => check('ab-c', '--', '^-!'));
    it('a late-record callback that throws errors the stream', () =>
      newScheduler().run(({ cold, expectObservable }) => {
        const late = det('e9', 1, [finding('x', 'HIGH')], { watermarkMs: 30 });
        const out = cold('cl', { c: values.c, l: late }).pipe(
          windowedDedup<Ev>({
            ...tumbling10,
            lateRecords: () => {
              throw new Error('side output down');
            },
          }),
          map(brief),
        );
        expectObservable(out).toBe('-#', undefined, new Error('side output down'));
      }));
  });

  it('merges duplicate deliveries without counting them, and settles every member when the mention settles', () => {
    const outcomes: SettlementOutcome[] = [];
    const onSettled = (o: SettlementOutcome) => outcomes.push(o);
    const out = run([det('e1', 1, [finding('f', 'HIGH')], { onSettled }), det('e1', 2, [finding('f', 'HIGH')], { onSettled }), det('e2', 3, [], { onSettled })], tumbling10);
    expect(out.map(brief)).to.deep.equal(['f:HIGH:1']);
    expect(outcomes).to.deep.equal(['dropped']);
    out[0]!.settlement.settle('delivered');
    expect(outcomes).to.deep.equal(['dropped', 'delivered', 'delivered']);
  });

  it('hopping windows: a record in two windows settles once both mentions have', () => {
    const outcomes: SettlementOutcome[] = [];
    const out = run([det('e1', 7, [finding('f', 'HIGH')], { onSettled: (o) => outcomes.push(o) })], { window: { kind: 'hopping', sizeMs: 10, advanceMs: 5 } });
    expect(out.map((m) => [m.value.window_start, m.value.window_end])).to.deep.equal([
      [0, 10],
      [5, 15],
    ]);
    out[0]!.settlement.settle('delivered');
    expect(outcomes).to.deep.equal([]);
    out[1]!.settlement.settle('delivered');
    expect(outcomes).to.deep.equal(['delivered']);
  });

  it('session windows: events within the gap join; a longer pause starts a new mention', () => {
    const out = run(
      [det('e1', 0, [finding('f', 'HIGH')]), det('e2', 4, [finding('f', 'HIGH')]), det('e3', 20, [finding('f', 'HIGH')]), det('e4', 22, [finding('f', 'HIGH')])],
      { window: { kind: 'session', gapMs: 5 } },
    );
    expect(out.map((m) => [m.value.window_start, m.value.window_end, m.value.event_count])).to.deep.equal([
      [0, 9, 2],
      [20, 27, 2],
    ]);
  });

  it('late records are counted and dropped (settled) or sent to a side output', () => {
    const counters = new DedupCounters();
    const outcomes: SettlementOutcome[] = [];
    const sideOutput: Envelope<Detection<Ev>>[] = [];
    const input = () => [det('e1', 25, [finding('f', 'HIGH')], { watermarkMs: 24 }), det('e0', 3, [finding('f', 'HIGH')], { watermarkMs: 24, onSettled: (o) => outcomes.push(o) })];
    run(input(), tumbling10, counters);
    expect(counters.lateRecords).to.equal(1);
    expect(outcomes).to.deep.equal(['dropped']);
    run(input(), { ...tumbling10, lateRecords: (e: Envelope<Detection<Ev>>) => sideOutput.push(e) });
    expect(sideOutput.map((e) => e.value.event.event_id)).to.deep.equal(['e0']);
  });

  it('shadow findings make shadow mentions, apart from live ones (or none)', () => {
    const input = () => [det('e1', 1, [finding('f', 'HIGH'), finding('f', 'HIGH', 0.9, true)])];
    expect(run(input(), tumbling10).map((m) => [m.value.cluster_id, m.value.shadow])).to.deep.equal([
      ['m|s|f|HIGH', false],
      ['m|s|f|HIGH|shadow', true],
    ]);
    expect(run(input(), { ...tumbling10, includeShadow: false })).to.have.length(1);
  });

  it('bounds memory: open mentions and members per mention', () => {
    const counters = new DedupCounters();
    const input = Array.from({ length: 20 }, (_, i) => det(`e${i}`, 1, [finding(`f${i % 5}`, 'HIGH')]));
    const out = run(input, { ...tumbling10, maxOpenMentions: 2, maxMembersPerMention: 3 }, counters);
    expect(out.reduce((n, m) => n + m.value.event_count, 0)).to.equal(20);
    expect(counters.earlyMentions).to.be.greaterThan(0);
    expect(new Set(out.map((m) => m.value.mention_id)).size).to.equal(out.length);
  });

  it('validates options at the factory call, naming the option', () => {
    expect(() => windowedDedup({ window: { kind: 'tumbling', sizeMs: 0 } })).to.throw(RangeError, /'window.sizeMs' must be an integer in \[1, /);
    expect(() => windowedDedup({ window: { kind: 'hopping', sizeMs: 10, advanceMs: 11 } })).to.throw(RangeError, /'window.advanceMs' must be an integer in \[1, 10\]/);
    expect(() => windowedDedup({ mode: 'loose' as 'strict' })).to.throw(RangeError, /'mode' must be one of/);
    expect(() => windowedDedup({ hyperLogLogRegisters: 100 })).to.throw(RangeError, /power of two/);
    expect(() => windowedDedup({ bloomFalsePositiveRate: 0 })).to.throw(RangeError, /bloomFalsePositiveRate/);
  });

  it('DistinctCounter: exact below the limit, Bloom + HyperLogLog above, duplicates never counted', () => {
    const c = new DistinctCounter({ exactLimit: 100, bloomCapacity: 10_000, bloomFalsePositiveRate: 0.001, hyperLogLogRegisters: 4096 });
    for (let i = 0; i < 100; i++) expect(c.add(`e${i}`)).to.equal(true);
    expect(c.add('e5')).to.equal(false);
    expect(c.count()).to.equal(100);
    for (let i = 0; i < 3000; i++) c.add(`e${i}`);
    expect(c.approximate).to.equal(true);
    expect(c.count()).to.be.within(3000 * 0.92, 3000 * 1.08);
  });

  it('properties: nothing lost, nothing settled twice, one mention per cluster per window, counts exact', () => {
    const arbitraryRecord = fc.record({
      id: fc.integer({ min: 0, max: 30 }),
      t: fc.integer({ min: 0, max: 60 }),
      lag: fc.integer({ min: 0, max: 15 }),
      model: fc.constantFrom('m1', 'm2'),
      findings: fc.array(fc.tuple(fc.constantFrom('latency_ms', 'confidence'), fc.constantFrom<Direction>('HIGH', 'LOW')), { maxLength: 2 }),
    });
    fc.assert(
      fc.property(fc.array(arbitraryRecord, { maxLength: 40 }), fc.constantFrom('cluster-aware' as const, 'strict' as const), fc.boolean(), (records, mode, hopping) => {
        const settled = new Array<number>(records.length).fill(0);
        let watermark = -Infinity;
        const input = records.map((r, i) => {
          watermark = Math.max(watermark, r.t - r.lag);
          return det(`e${r.id}`, r.t, r.findings.map(([f, d]) => finding(f, d)), { watermarkMs: watermark, model: r.model, onSettled: () => settled[i]!++ });
        });
        const window = hopping ? { kind: 'hopping' as const, sizeMs: 10, advanceMs: 5 } : { kind: 'tumbling' as const, sizeMs: 10 };
        const counters = new DedupCounters();
        const out = run(input, { mode, window }, counters);
        const keys = out.map((m) => `${m.value.cluster_id}@${m.value.window_start}`);
        expect(new Set(keys).size, 'one mention per cluster per window').to.equal(keys.length);
        for (const m of out) {
          expect(m.value.evidence_event_ids).to.have.length(Math.min(m.value.event_count, 10));
          expect(new Set(m.value.evidence_event_ids).size).to.equal(m.value.evidence_event_ids.length);
          expect(m.value.window_end - m.value.window_start).to.equal(10);
        }
        for (const m of out) m.settlement.settle('delivered');
        expect(settled.every((n) => n === 1), 'every input settled exactly once').to.equal(true);
        expect(counters.records).to.equal(records.length);
      }),
      { numRuns: 200 },
    );
  });
});
