/**
 * Snapshot/restore of every stateful operator: a snapshot taken at a boundary (every window/epoch
 * closed), passed through JSON and restored into a new subscription, continues exactly as the
 * original subscription does on the same later records.
 */
import { expect } from 'chai';
import { of, Subject, VirtualTimeScheduler, type Observable, type OperatorFunction } from 'rxjs';
import { testEnvelope, type Envelope } from '../../core/envelope.js';
import {
  adaptiveSample,
  banditBudget,
  DedupCounters,
  enrich,
  keyedPartition,
  parallelDetect,
  PartitionProbe,
  OperatorStateHandle,
  perKeyDetector,
  SeededRandom,
  windowedDedup,
  type ArmFeedback,
  type BudgetAllocation,
  type Detection,
  type Finding,
} from '../../operators/index.js';


interface Ev {
  readonly event_id: string;
  readonly model_id: string;
  readonly model_version: string;
  readonly tenant: string;
  readonly segment: string;
  readonly latency_ms: number;
}

const random = SeededRandom.fromSeed(11);
const events = Array.from({ length: 400 }, (_, i): Ev => ({
  event_id: `e${i}`,
  model_id: `m${Math.floor(random.nextFloat() * 5)}`,
  model_version: 'v1',
  tenant: 't',
  segment: random.nextFloat() < 0.7 ? 'a' : 'b',
  latency_ms: 100 + 30 * random.nextFloat() + (i % 97 === 0 ? 500 : 0),
}));
/** Event time = index; the watermark equals it, so a record at t closes every window ending at t + 1. */
const envelopesOf = <V>(from: number, to: number, valueAt: (i: number) => V): Envelope<V>[] =>
  Array.from({ length: to - from }, (_, k) => {
    const i = from + k;
    return testEnvelope(valueAt(i), { key: events[i]!.model_id, eventTimeMs: i, watermarkMs: i, offset: i });
  });
const roundTrip = (handle: OperatorStateHandle): unknown => JSON.parse(JSON.stringify(handle.snapshot()));

/**
 * Runs `first` then `second` through one subscription (snapshotting in between), and `second` alone
 * through a new subscription restored from that snapshot; returns both outputs for `second`.
 */
function continueAndRestore<V, O>(
  make: (state: OperatorStateHandle) => OperatorFunction<Envelope<V>, Envelope<O>>,
  first: () => Envelope<V>[],
  second: () => Envelope<V>[],
  afterFirst: () => void = () => {},
): { original: O[]; restored: O[]; snapshot: unknown } {
  const collect = (input: Subject<Envelope<V>>, op: OperatorFunction<Envelope<V>, Envelope<O>>, into: O[]): void => {
    (input as Observable<Envelope<V>>).pipe(op).subscribe({
      next: (e) => {
        into.push(e.value);
        e.settlement.settle('delivered');
      },
      error: (err: unknown) => {
        throw err;
      },
    });
  };
  const originalState = new OperatorStateHandle();
  const originalInput = new Subject<Envelope<V>>();
  const seen: O[] = [];
  collect(originalInput, make(originalState), seen);
  for (const e of first()) originalInput.next(e);
  afterFirst();
  const snapshot = roundTrip(originalState);
  const before = seen.length;
  for (const e of second()) originalInput.next(e);
  originalInput.complete();
  const original = seen.slice(before);

  const restoredState = new OperatorStateHandle();
  restoredState.restore(snapshot); // before subscribing: applied on subscribe
  const restoredInput = new Subject<Envelope<V>>();
  const restored: O[] = [];
  collect(restoredInput, make(restoredState), restored);
  for (const e of second()) restoredInput.next(e);
  restoredInput.complete();
  return { original, restored, snapshot };
}

describe('snapshot/restore (OperatorStateHandle)', () => {
  it('snapshot() before subscription throws; restore() of a foreign or malformed snapshot throws', () => {
    const handle = new OperatorStateHandle();
    expect(() => handle.snapshot()).to.throw(/before the operator was subscribed/);
    expect(() => handle.restore({ nope: 1 })).to.throw(TypeError, /operator, version/);
    handle.restore({ operator: 'enrich', version: 1, entries: [] });
    const input = new Subject<Envelope<Ev>>();
    let failure: unknown;
    input.pipe(adaptiveSample<Ev>({ strategy: { kind: 'uniform-reservoir' }, budget: { recordsPerWindow: 1 }, state: handle })).subscribe({ error: (err: unknown) => (failure = err) });
    expect(failure).to.be.instanceOf(TypeError).with.property('message').match(/cannot restore a snapshot written by enrich/);
    expect(() => adaptiveSample<Ev>({ strategy: { kind: 'uniform-reservoir' }, budget: { recordsPerWindow: 1 }, state: {} as OperatorStateHandle })).to.throw(
      TypeError,
      /OperatorStateHandle/,
    );
  });

  it('adaptiveSample: the random position; a restored subscription samples as the original would', () => {
    const make = (state: OperatorStateHandle) =>
      adaptiveSample<Ev>({
        strategy: { kind: 'adaptive', scoreOf: (e) => e.latency_ms / 100, shardOf: (e) => e.segment },
        budget: { fraction: 0.1 },
        windowMs: 20,
        random: SeededRandom.fromSeed(5),
        state,
      });
    const { original, restored, snapshot } = continueAndRestore(make, () => envelopesOf(0, 200, (i) => events[i]!), () => envelopesOf(200, 400, (i) => events[i]!));
    expect(original.length).to.be.greaterThan(10);
    expect(restored).to.deep.equal(original);
    expect(snapshot).to.have.keys('operator', 'version', 'random');
    // Without the restore the sample differs: the snapshot carries real state.
    const fresh: unknown[] = [];
    of(...envelopesOf(200, 400, (i) => events[i]!)).pipe(make(new OperatorStateHandle())).subscribe((e) => fresh.push(e.value));
    expect(fresh).to.not.deep.equal(original);
  });

  it('adaptiveSample: restore() after the first record throws', () => {
    const handle = new OperatorStateHandle();
    const input = new Subject<Envelope<Ev>>();
    input.pipe(adaptiveSample<Ev>({ strategy: { kind: 'uniform-rate' }, budget: { fraction: 0.5 }, state: handle })).subscribe({ error: () => {} });
    const snapshot = roundTrip(handle);
    input.next(envelopesOf(0, 1, (i) => events[i]!)[0]!);
    expect(() => handle.restore(snapshot)).to.throw(/before the first record/);
  });

  it('banditBudget: the bandit’s learning and the random position continue across a restore', () => {
    const allocations: BudgetAllocation[][] = [[], []];
    let run = 0;
    const feedback = [new Subject<ArmFeedback>(), new Subject<ArmFeedback>()];
    const make = (state: OperatorStateHandle) => {
      const mine = run++;
      return banditBudget<Ev>({
        arms: [
          { name: 'uniform', strategy: { kind: 'uniform-reservoir' } },
          { name: 'adaptive', strategy: { kind: 'adaptive', scoreOf: (e) => e.latency_ms / 100 } },
        ],
        budget: { recordsPerEpoch: 4 },
        epochMs: 20,
        feedback: feedback[mine]!,
        random: SeededRandom.fromSeed(9),
        onAllocation: (a) => allocations[mine]!.push(a),
        state,
      });
    };
    const { original, restored, snapshot } = continueAndRestore(
      make,
      () => envelopesOf(0, 200, (i) => events[i]!),
      () => envelopesOf(200, 400, (i) => events[i]!),
      () => {
        feedback[0]!.next({ arm: 'adaptive', mentions: 30, cost: 10 });
        feedback[0]!.next({ arm: 'uniform', mentions: 1, cost: 10 });
      },
    );
    expect(restored).to.deep.equal(original);
    expect(allocations[1]).to.deep.equal(allocations[0]!.slice(allocations[0]!.length - allocations[1]!.length));
    expect((snapshot as { bandit: { arms: unknown[] } }).bandit.arms).to.have.length(2);
  });

  it('enrich: the cache entries (with fetch times and negative entries) — a restored cache answers without lookups', () => {
    const scheduler = new VirtualTimeScheduler();
    const calls: string[] = [];
    const make = (state: OperatorStateHandle) =>
      enrich<Ev, { owner: string }>({
        keyOf: (e) => e.model_id,
        lookup: (key) => {
          calls.push(key);
          return of(key === 'm4' ? undefined : { owner: `team-${key}` });
        },
        scheduler,
        state,
      });
    const { original, restored, snapshot } = continueAndRestore(make, () => envelopesOf(0, 200, (i) => events[i]!), () => envelopesOf(200, 400, (i) => events[i]!));
    expect(calls).to.have.length(5); // each model looked up once, by the original; none after the restore
    expect(restored).to.deep.equal(original);
    expect(original.map((o) => o.status)).to.include.members(['hit', 'not-found']);
    const entries = (snapshot as { entries: { key: string; notFound?: true }[] }).entries;
    expect(entries.map((e) => e.key).sort()).to.deep.equal(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(entries.find((e) => e.key === 'm4')).to.include({ notFound: true });
  });

  it('keyedPartition: lane load counters and hot keys; a different ring is refused', () => {
    const scheduler = new VirtualTimeScheduler();
    const probes = [new PartitionProbe(), new PartitionProbe()];
    let run = 0;
    const make = (state: OperatorStateHandle) =>
      keyedPartition<Ev, Ev>({ lanes: 3, work: (e) => e, probe: probes[run++]!, scheduler, hotKeyCount: 3, state });
    const { original, restored, snapshot } = continueAndRestore(make, () => envelopesOf(0, 200, (i) => events[i]!), () => envelopesOf(200, 400, (i) => events[i]!));
    expect(restored).to.deep.equal(original);
    expect(probes[1]!.lanes()).to.deep.equal(probes[0]!.lanes());
    expect(probes[1]!.hotKeys()).to.deep.equal(probes[0]!.hotKeys());
    expect(probes[1]!.lanes().reduce((n, l) => n + l.records, 0)).to.equal(400);

    const other = new OperatorStateHandle();
    other.restore(snapshot);
    let failure: unknown;
    new Subject<Envelope<Ev>>().pipe(keyedPartition<Ev, Ev>({ lanes: 4, work: (e) => e, state: other })).subscribe({ error: (err: unknown) => (failure = err) });
    expect(failure).to.be.instanceOf(RangeError).with.property('message').match(/ring/);

    // The bounded-load rule keeps no state: a snapshot taken without it restores under it (an upgrade).
    const underRule = new OperatorStateHandle();
    underRule.restore(snapshot);
    const probe = new PartitionProbe();
    let error: unknown;
    new Subject<Envelope<Ev>>()
      .pipe(keyedPartition<Ev, Ev>({ lanes: 3, work: (e) => e, probe, boundedLoadEpsilon: 0.02, boundedLoadMeasure: 'recent-records', state: underRule }))
      .subscribe({ error: (err: unknown) => (error = err) });
    expect(error).to.equal(undefined);
    const savedRecords = (snapshot as { lanes: { records: number }[] }).lanes.map((l) => l.records);
    expect(savedRecords.reduce((a, b) => a + b, 0)).to.equal(200);
    expect(probe.lanes().map((l) => l.records)).to.deep.equal(savedRecords);
  });

  it('parallelDetect: every detector’s state by name; restored detectors find what the originals find', () => {
    const make = (state: OperatorStateHandle) =>
      parallelDetect<Ev>({ detectors: [perKeyDetector<Ev>({ detector: 'ewma-zscore', fields: ['latency_ms'] })], state });
    const { original, restored } = continueAndRestore(make, () => envelopesOf(0, 200, (i) => events[i]!), () => envelopesOf(200, 400, (i) => events[i]!));
    expect(original.filter((d) => d.findings.length > 0).length).to.be.greaterThan(0);
    expect(restored).to.deep.equal(original);
  });

  it('windowedDedup: the counters and emitted pairs (open mentions are rebuilt by replay); mentions after a restore are the same', () => {
    const finding: Finding = { field: 'latency_ms', direction: 'HIGH', score: 0.99, detector: 'ewma-zscore', shadow: false };
    const detectionAt = (i: number): Detection<Ev> => ({ event: events[i]!, findings: i % 3 === 0 ? [finding] : [] });
    const counters = [new DedupCounters(), new DedupCounters()];
    let run = 0;
    const scheduler = new VirtualTimeScheduler();
    const make = (state: OperatorStateHandle) => windowedDedup<Ev>({ window: { kind: 'tumbling', sizeMs: 20 }, scheduler, state }, counters[run++]!);
    const { original, restored, snapshot } = continueAndRestore(make, () => envelopesOf(0, 200, detectionAt), () => envelopesOf(200, 400, detectionAt));
    expect(original.length).to.be.greaterThan(5);
    expect(restored).to.deep.equal(original);
    expect({ ...counters[1]! }).to.deep.equal({ ...counters[0]! });
    expect(snapshot).to.have.keys('operator', 'version', 'counters', 'emitted');
  });
});
