import { expect } from 'chai';
import fc from 'fast-check';
import { from, map, Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { testEnvelope, type Envelope } from '../../core/envelope.js';
import type { SettlementOutcome } from '../../core/settlement.js';
import type { Mention } from '../../schemas/types.generated.js';
import { DedupCounters, windowedDedup } from '../../operators/windowed-dedup.js';
import type { Detection } from '../../operators/parallel-detect.js';
import type { Direction, Finding } from '../../operators/parallel-detect/index.js';
import { DistinctCounter } from '../../operators/windowed-dedup/index.js';
import { OperatorStateHandle } from '../../core/state.js';
import { adaptiveSample } from '../../operators/adaptive-sample.js';
import type { DedupTestEvent as Ev } from '../support/dedup-fixtures.js';

const newScheduler = () =>
  new TestScheduler((actual, expected) => {
    expect(actual).to.deep.equal(expected);
  });

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
    expect(() => windowedDedup({ toOutput: 'mention' as never })).to.throw(TypeError, /windowedDedup: option 'toOutput' must be a function/);
  });

  it('toOutput builds the topology record from each closed (window, cluster); the mentions contract shape is the default', () => {
    const input = () => [det('e1', 1, [finding('latency_ms', 'HIGH')]), det('e2', 3, [finding('latency_ms', 'HIGH', 0.999)]), det('e3', 12, [], { watermarkMs: 11 })];
    const out: Envelope<{ alert: string; events: number }>[] = [];
    from(input())
      .pipe(windowedDedup<Ev, { alert: string; events: number }>({ ...tumbling10, toOutput: (m) => ({ alert: `${m.model_id} ${m.field} ${m.direction}`, events: m.event_count }) }))
      .subscribe((e) => out.push(e));
    expect(out.map((e) => e.value)).to.deep.equal([{ alert: 'm latency_ms HIGH', events: 2 }]);
    // The default output is assignable to the mentions contract's record, field for field.
    const mention: Mention = run(input(), tumbling10)[0]!.value;
    expect(mention.mention_id).to.equal('m|s|latency_ms|HIGH@0/e1');
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

describe('windowedDedup: handover of emitted (cluster, window) pairs', () => {
  const high = [finding('latency_ms', 'HIGH')];
  /** A record of model `model` at `t` from input partition `partition` (watermark just behind it). */
  const rec = (id: string, t: number, partition = 1, model = 'm'): Envelope<Detection<Ev>> =>
    testEnvelope(
      { event: { event_id: id, model_id: model, model_version: 'v1', tenant: 't', segment: 's' }, findings: high },
      { eventTimeMs: t, watermarkMs: t - 1, partition, onSettled: (outcome) => settled.set(id, outcome) },
    );
  let settled = new Map<string, SettlementOutcome>();
  beforeEach(() => (settled = new Map()));

  /** One subscription (an instance): feed records, complete (its drain), read its mentions. */
  function instance(state: OperatorStateHandle, options: { settleMentions?: boolean; maxEmittedPairs?: number } = {}) {
    const input = new Subject<Envelope<Detection<Ev>>>();
    const mentions: Envelope<Mention>[] = [];
    const counters = new DedupCounters();
    input.pipe(windowedDedup<Ev>({ ...tumbling10, state, ...(options.maxEmittedPairs === undefined ? {} : { maxEmittedPairs: options.maxEmittedPairs }) }, counters)).subscribe((m) => {
      mentions.push(m);
      if (options.settleMentions !== false) m.settlement.settle('delivered');
    });
    return { input, mentions, counters, pairs: () => mentions.map((m) => `${m.value.cluster_id}@${m.value.window_start}`) };
  }
  const roundTrip = (handle: OperatorStateHandle): unknown => JSON.parse(JSON.stringify(handle.snapshot()));

  /** Instance A reads t = 1..4 of window [0, 10) on partition 1, then stops (drains): one mention. */
  function drainedA(): { snapshot: unknown; a: ReturnType<typeof instance> } {
    const state = new OperatorStateHandle();
    const a = instance(state);
    for (const t of [1, 2, 3, 4]) a.input.next(rec(`a${t}`, t));
    a.input.complete();
    expect(a.pairs()).to.deep.equal(['m|s|latency_ms|HIGH@0']);
    return { snapshot: roundTrip(state), a };
  }
  /** The rest of window [0, 10) and the next window, as the next owner of partition 1 reads them. */
  const rest = () => [rec('b5', 5), rec('b6', 6), rec('b8', 8), rec('b12', 12), rec('b25', 25)];

  it('the next owner restores the emitted pair: the rest of that window settles as already emitted, no second mention', () => {
    const { snapshot } = drainedA();
    expect((snapshot as { emitted: unknown[] }).emitted).to.deep.equal([[1, 'm|s|latency_ms|HIGH', 0, 10]]);
    const state = new OperatorStateHandle();
    state.restore(snapshot, [1]);
    const b = instance(state);
    for (const e of rest()) b.input.next(e);
    expect(b.pairs()).to.deep.equal(['m|s|latency_ms|HIGH@10']);
    expect(b.counters.alreadyEmitted).to.equal(3);
    expect(['b5', 'b6', 'b8'].map((id) => settled.get(id))).to.deep.equal(['dropped', 'dropped', 'dropped']);
    // Without the snapshot the same records make a second mention of [0, 10): the re-emit it prevents.
    const cold = instance(new OperatorStateHandle());
    for (const e of rest()) cold.input.next(e);
    expect(cold.pairs()).to.deep.equal(['m|s|latency_ms|HIGH@0', 'm|s|latency_ms|HIGH@10']);
  });

  it('takes only the pairs of the partitions it restores or merges', () => {
    const { snapshot } = drainedA();
    const state = new OperatorStateHandle();
    state.restore(snapshot, [2, 3]);
    const b = instance(state);
    for (const e of rest()) b.input.next(e);
    expect(b.pairs()).to.deep.equal(['m|s|latency_ms|HIGH@0', 'm|s|latency_ms|HIGH@10']);
  });

  it('an instance that already holds state merges the pairs (a union) and keeps its own counters', () => {
    const { snapshot } = drainedA();
    const state = new OperatorStateHandle();
    const b = instance(state);
    b.input.next(rec('own1', 1, 0, 'other'));
    expect(state.mergeable).to.equal(true);
    state.merge(snapshot, [1]);
    for (const e of rest()) b.input.next(e);
    expect(b.pairs()).to.deep.equal(['other|s|latency_ms|HIGH@0', 'm|s|latency_ms|HIGH@10']);
    expect(b.counters).to.include({ records: 6, alreadyEmitted: 3, mentions: 2 });
    // Operators whose snapshot does not merge say so; merge() on them throws.
    const sampler = new OperatorStateHandle();
    new Subject<Envelope<Ev>>().pipe(adaptiveSample<Ev>({ strategy: { kind: 'uniform-reservoir' }, budget: { recordsPerWindow: 1 }, state: sampler })).subscribe();
    expect(sampler.mergeable).to.equal(false);
    expect(() => sampler.merge({ operator: 'adaptiveSample', version: 1 })).to.throw(/merge/);
  });

  it('notes a pair only once its mention has settled downstream (an unacknowledged mention is rebuilt, not lost)', () => {
    const state = new OperatorStateHandle();
    const a = instance(state, { settleMentions: false });
    for (const t of [1, 2]) a.input.next(rec(`a${t}`, t));
    a.input.complete();
    expect(a.mentions).to.have.length(1);
    expect((roundTrip(state) as { emitted: unknown[] }).emitted).to.deep.equal([]);
    a.mentions[0]!.settlement.settle('delivered');
    expect((roundTrip(state) as { emitted: unknown[] }).emitted).to.have.length(1);
  });

  it('forgets a pair once the watermark reaches its window end, and keeps at most maxEmittedPairs', () => {
    const { snapshot } = drainedA();
    const state = new OperatorStateHandle();
    state.restore(snapshot, [1]);
    const b = instance(state);
    b.input.next(rec('b5', 5));
    expect((roundTrip(state) as { emitted: unknown[] }).emitted).to.have.length(1);
    b.input.next(rec('b12', 12)); // watermark 11: window [0, 10) is over
    expect((roundTrip(state) as { emitted: unknown[] }).emitted).to.deep.equal([]);

    const bounded = new OperatorStateHandle();
    const c = instance(bounded, { maxEmittedPairs: 2 });
    for (const model of ['m1', 'm2', 'm3']) c.input.next(rec(`${model}-1`, 1, 1, model));
    c.input.complete();
    expect((roundTrip(bounded) as { emitted: [number, string][] }).emitted.map(([, cluster]) => cluster)).to.deep.equal(['m2|s|latency_ms|HIGH', 'm3|s|latency_ms|HIGH']);
  });

  it('restores version 1 snapshots (counters only); refuses versions it does not know', () => {
    const v1 = { operator: 'windowedDedup', version: 1, counters: { records: 7, recordsWithoutFindings: 1, lateRecords: 2, mentions: 3, earlyMentions: 0 } };
    const state = new OperatorStateHandle();
    state.restore(v1, [1]);
    const b = instance(state);
    expect({ ...b.counters }).to.deep.equal({ ...v1.counters, alreadyEmitted: 0 });
    for (const e of rest()) b.input.next(e);
    expect(b.pairs()).to.deep.equal(['m|s|latency_ms|HIGH@0', 'm|s|latency_ms|HIGH@10']);
    const future = new OperatorStateHandle();
    future.restore({ ...v1, version: 3 });
    let failure: unknown;
    new Subject<Envelope<Detection<Ev>>>().pipe(windowedDedup<Ev>({ state: future })).subscribe({ error: (err: unknown) => (failure = err) });
    expect(failure).to.be.instanceOf(RangeError).with.property('message').match(/version 3 is not supported/);
  });

  it('property: however a keyed stream is split between a draining instance and the next owner, no (cluster, window) is mentioned twice and none is missed', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ model: fc.constantFrom('m1', 'm2', 'm3'), gap: fc.integer({ min: 0, max: 4 }) }), { minLength: 1, maxLength: 60 }),
        fc.nat(),
        fc.boolean(),
        (steps, splitAt, nextOwnerHoldsState) => {
          let t = 0;
          const records = steps.map((s, i) => ({ id: `e${i}`, model: s.model, t: (t += s.gap) }));
          const split = splitAt % (records.length + 1);
          const toEnvelope = (r: (typeof records)[number]) => rec(r.id, r.t, 1, r.model);
          const stateA = new OperatorStateHandle();
          const a = instance(stateA);
          for (const r of records.slice(0, split)) a.input.next(toEnvelope(r));
          a.input.complete();
          const stateB = new OperatorStateHandle();
          if (!nextOwnerHoldsState) stateB.restore(roundTrip(stateA), [1]);
          const b = instance(stateB);
          if (nextOwnerHoldsState) {
            b.input.next(rec('own', 0, 0, 'other')); // partition 0 was already B's
            stateB.merge(roundTrip(stateA), [1]);
          }
          for (const r of records.slice(split)) b.input.next(toEnvelope(r));
          b.input.complete();
          const mentioned = [...a.pairs(), ...b.pairs()].filter((pair) => !pair.startsWith('other|'));
          expect(new Set(mentioned).size, mentioned.join(' ')).to.equal(mentioned.length);
          const expected = new Set(records.map((r) => `${r.model}|s|latency_ms|HIGH@${Math.floor(r.t / 10) * 10}`));
          expect(new Set(mentioned)).to.deep.equal(expected);
          // Every record settled: in a mention, or as already emitted.
          expect(records.every((r) => settled.has(r.id))).to.equal(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
