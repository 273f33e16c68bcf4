/**
 * StepStates without a broker: the changelog records it writes (one per stateful step and input
 * partition, keyed `<step>:<partition>`) decode back to the snapshot, whatever JSON the operator holds;
 * and a restore for new partitions (the changelog read from memory) restores a step that holds no
 * state, merges other instances' snapshots into one that does (windowedDedup's emitted pairs), and
 * refuses a snapshot the step's operator does not read.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { Subject } from 'rxjs';
import { StepStates } from '../../runtime/state/step-states.js';
import { changelogKey, changelogTopic, changelogTopicSpec, decodeEntry, type ChangelogEntry } from '../../runtime/state/changelog.js';
import { DedupCounters, windowedDedup } from '../../operators/windowed-dedup.js';
import type { EmittedPair } from '../../operators/windowed-dedup/emitted-pairs.js';
import { dedupSnapshot, type DedupTestEvent as Ev } from '../support/dedup-fixtures.js';
import type { OperatorSnapshot } from '../../core/state.js';
import type { Detection } from '../../operators/parallel-detect.js';
import { testEnvelope, type Envelope } from '../../core/envelope.js';

function statesWith(snapshot: () => Record<string, unknown>): { states: StepStates; written: { topic: string; key: string; value: Buffer }[] } {
  const written: { topic: string; key: string; value: Buffer }[] = [];
  const states = new StepStates({ topology: 'shop', brokers: '127.0.0.1:9', log: () => {}, write: (topic, key, value) => written.push({ topic, key, value }) });
  states.handleFor('dedup').attach('windowedDedup', () => ({ operator: 'windowedDedup', version: 1, ...snapshot() }), () => {});
  states.handleFor('stateless'); // never attached: not stateful, nothing written
  return { states, written };
}

describe('StepStates: changelog records', () => {
  it('names the topic <topology>.<step>.changelog and creates it compacted', () => {
    const { states } = statesWith(() => ({}));
    expect(states.statefulSteps()).to.deep.equal(['dedup']);
    expect(states.topicSpecs()).to.deep.equal([changelogTopicSpec('shop.dedup.changelog')]);
    expect(changelogTopicSpec('x').config!['cleanup.policy']).to.equal('compact');
    expect(changelogTopic('shop', 'dedup')).to.equal('shop.dedup.changelog');
  });

  it('writes one record per partition, keyed <step>:<partition>, with the committed offset it matches', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.uniqueArray(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: -1, max: 1e12 }),
        (held, partitions, offset) => {
          const { states, written } = statesWith(() => ({ held }));
          states.snapshot(new Map(partitions.map((p) => [p, offset + p])));
          expect(written.map((w) => w.key)).to.deep.equal(partitions.map((p) => changelogKey('dedup', p)));
          for (const [i, w] of written.entries()) {
            expect(w.topic).to.equal('shop.dedup.changelog');
            const entry = decodeEntry(w.value);
            if (typeof entry === 'string') throw new Error(entry);
            expect(entry.partition).to.equal(partitions[i]);
            expect(entry.committedOffset).to.equal(offset + partitions[i]!);
            // JSON round trip of what the operator gave (-0 becomes 0 in JSON, as anywhere).
            expect(entry.snapshot).to.deep.equal(JSON.parse(JSON.stringify({ operator: 'windowedDedup', version: 1, held })));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('writes nothing when no partition is held', () => {
    const { states, written } = statesWith(() => ({ n: 1 }));
    states.snapshot(new Map());
    expect(written).to.deep.equal([]);
  });

  it('rejects a record that is not a changelog entry, with the reason', () => {
    expect(decodeEntry(Buffer.from('{"format":2}'))).to.match(/not a changelog entry/);
    expect(decodeEntry(Buffer.from('nope'))).to.match(/not JSON/);
  });
});

/**
 * An instance whose step `dedup` is a subscribed windowedDedup (10 ms tumbling windows), and a
 * changelog it reads from memory: `write(partition, writer, snapshot)` puts what another instance
 * would have written.
 */
function dedupInstance() {
  const changelog = new Map<string, ChangelogEntry>();
  let writtenAtMs = 0;
  const write = (partition: number, writer: string, snapshot: OperatorSnapshot): void => {
    changelog.set(changelogKey('dedup', partition), { format: 1, step: 'dedup', partition, committedOffset: 10, writer, writtenAtMs: ++writtenAtMs, snapshot });
  };
  // Its own snapshots land in the same changelog.
  const writeOwn = (_topic: string, key: string, value: Buffer): void => {
    const entry = decodeEntry(value);
    if (typeof entry === 'string') throw new Error(entry);
    changelog.set(key, entry);
  };
  const states = new StepStates({ topology: 'shop', brokers: '127.0.0.1:9', log: () => {}, write: writeOwn, read: async () => ({ entries: changelog, recordsRead: changelog.size }) });
  const counters = new DedupCounters();
  const input = new Subject<Envelope<Detection<Ev>>>();
  const mentions: string[] = [];
  input.pipe(windowedDedup<Ev>({ window: { kind: 'tumbling', sizeMs: 10 }, state: states.handleFor('dedup') }, counters)).subscribe((m) => {
    mentions.push(`${m.value.cluster_id}@${m.value.window_start}`);
    m.settlement.settle('delivered');
  });
  /** The emitted pairs the step holds now, as `partition|cluster|start` (sorted). */
  const pairs = (): string[] => ((states.handleFor('dedup').snapshot()['emitted'] as EmittedPair[]).map(([p, c, start]) => `${p}|${c}|${start}`)).sort();
  const rec = (id: string, model: string, t: number, partition: number): Envelope<Detection<Ev>> =>
    testEnvelope(
      { event: { event_id: id, model_id: model, model_version: 'v1', tenant: 't', segment: 's' }, findings: [{ field: 'latency_ms', direction: 'HIGH', score: 0.99, detector: 'ewma-zscore', shadow: false }] },
      { eventTimeMs: t, watermarkMs: t - 1, partition },
    );
  return { states, write, counters, input, mentions, pairs, rec };
}
const cluster = (model: string): string => `${model}|s|latency_ms|HIGH`;

describe('StepStates: restore and merge of a step that already holds state', () => {
  it('merges a snapshot of another instance into live state: both sides kept, the counters its own', async () => {
    const b = dedupInstance();
    // Instance A held partition 0 and emitted m1's window [0, 10); instance C held partition 1 and emitted m2's.
    b.write(0, 'host-a:1#1', dedupSnapshot([[0, cluster('m1'), 0, 10]], 5));
    b.write(1, 'host-c:1#1', dedupSnapshot([[1, cluster('m2'), 0, 10]], 7));
    expect((await b.states.restore([0])).map((r) => [r.action, r.merged])).to.deep.equal([['restored', 0]]);
    expect(b.counters.records).to.equal(5);
    expect((await b.states.restore([1])).map((r) => [r.action, r.merged])).to.deep.equal([['merged', 1]]);
    expect(b.pairs()).to.deep.equal([`0|${cluster('m1')}|0`, `1|${cluster('m2')}|0`]);
    // Counters are counts, not facts: merging them would add C's records to A's.
    expect(b.counters.records).to.equal(5);
    // Both windows are closed here now: the rest of their records settle as already emitted, no second mention.
    b.input.next(b.rec('a5', 'm1', 5, 0));
    b.input.next(b.rec('c6', 'm2', 6, 1));
    b.input.next(b.rec('x7', 'm3', 7, 1));
    b.input.complete();
    expect(b.counters.alreadyEmitted).to.equal(2);
    expect(b.mentions).to.deep.equal([`${cluster('m3')}@0`]);
  });

  it('merges nothing it wrote itself, and keeps its state when the partitions have no snapshot', async () => {
    const b = dedupInstance();
    b.write(0, 'host-a:1#1', dedupSnapshot([[0, cluster('m1'), 0, 10]], 5));
    await b.states.restore([0]);
    b.states.snapshot(new Map([[5, 42]])); // partition 5 leaves this instance (revoke), then comes back
    expect((await b.states.restore([5])).map((r) => [r.action, r.merged])).to.deep.equal([['kept', 0]]);
    expect((await b.states.restore([3])).map((r) => [r.action, r.merged])).to.deep.equal([['kept', 0]]);
    expect(b.pairs()).to.deep.equal([`0|${cluster('m1')}|0`]);
  });

  it("refuses another operator's snapshot, or a version its operator does not read, naming it and where it came from", async () => {
    const foreign = dedupInstance();
    foreign.write(0, 'host-a:1#1', dedupSnapshot([], 5));
    await foreign.states.restore([0]);
    foreign.write(1, 'host-c:1#1', { operator: 'adaptiveSample', version: 1 });
    await expectRejected(foreign.states.restore([1]), /state of step dedup, partition 1 \(shop\.dedup\.changelog, written by host-c:1#1\): windowedDedup: cannot restore a snapshot written by adaptiveSample/);

    const future = dedupInstance();
    future.write(0, 'host-a:1#1', dedupSnapshot([], 5));
    await future.states.restore([0]);
    future.write(1, 'host-c:1#1', { ...dedupSnapshot([], 5), version: 3 });
    await expectRejected(future.states.restore([1]), /partition 1 .*windowedDedup: snapshot version 3 is not supported \(this build reads version 1 or 2\)/);

    // The same refusal when the step holds no state yet (a restore, not a merge).
    const fresh = dedupInstance();
    fresh.write(2, 'host-c:1#1', { operator: 'adaptiveSample', version: 1 });
    await expectRejected(fresh.states.restore([2]), /state of step dedup, partition 2 .*cannot restore a snapshot written by adaptiveSample/);
  });

  it('property: a merge holds every pair the step held and every pair of the merged partitions, nothing else; merging the same snapshot again changes nothing', async () => {
    const pair = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.constantFrom('m1', 'm2', 'm3'), fc.integer({ min: 0, max: 4 })).map(([p, model, k]): EmittedPair => [p, cluster(model), k * 10, k * 10 + 10]);
    await fc.assert(
      fc.asyncProperty(
        fc.array(pair, { maxLength: 20 }),
        fc.array(pair, { maxLength: 20 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 2 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 2 }),
        async (held, incoming, restoredPartitions, mergedCandidates) => {
          const mergedPartitions = mergedCandidates.filter((p) => !restoredPartitions.includes(p));
          fc.pre(mergedPartitions.length > 0);
          const b = dedupInstance();
          for (const p of restoredPartitions) b.write(p, 'host-a:1#1', dedupSnapshot(held, 1));
          await b.states.restore(restoredPartitions);
          const before = b.pairs();
          // What a restore takes: the pairs of the partitions restored.
          const key = ([p, c, start]: EmittedPair): string => `${p}|${c}|${start}`;
          expect(before).to.deep.equal([...new Set(held.filter(([p]) => restoredPartitions.includes(p)).map(key))].sort());

          for (const p of mergedPartitions) b.write(p, 'host-c:1#1', dedupSnapshot(incoming, 2));
          await b.states.restore(mergedPartitions);
          const after = b.pairs();
          const expected = new Set([...before, ...incoming.filter(([p]) => mergedPartitions.includes(p)).map(key)]);
          expect(after).to.deep.equal([...expected].sort());

          await b.states.restore(mergedPartitions); // the same snapshots, merged a second time
          expect(b.pairs()).to.deep.equal(after);
          expect(b.counters.records).to.equal(1);
        },
      ),
      { numRuns: 200 },
    );
  });
});

async function expectRejected(promise: Promise<unknown>, message: RegExp): Promise<void> {
  let failure: unknown;
  await promise.catch((error: unknown) => (failure = error));
  expect(failure, 'rejected').to.be.instanceOf(Error).with.property('message').match(message);
}
