import { expect } from 'chai';
import fc from 'fast-check';
import { AssignedPartition } from '../../../runtime/kafka/assigned-partition.js';
import type { Message } from '../../../runtime/kafka/client.js';
import { offsetsToCommit, markCommitted, rewindToCommitted } from '../../../runtime/kafka/commit-positions.js';
import {
  IllegalPartitionTransitionError,
  nextPartitionState,
  PARTITION_TRANSITIONS,
  PartitionLifecycle,
  RECORD_ACTION,
  type PartitionEvent,
  type PartitionState,
} from '../../../runtime/kafka/partition-lifecycle.js';
import type { PartitionOffsetTracker } from '../../../runtime/offset-tracker.js';

const STATES = Object.keys(PARTITION_TRANSITIONS) as PartitionState[];
const EVENTS: PartitionEvent[] = ['prepared', 'rewind', 'seek-issued', 'begin-revoke', 'release'];

/** Drives a fresh lifecycle along the shortest allowed path to `target`. */
function lifecycleIn(target: PartitionState): PartitionLifecycle {
  const paths: Record<PartitionState, PartitionEvent[]> = {
    restoring: [],
    active: ['prepared'],
    rewinding: ['prepared', 'rewind'],
    revoking: ['begin-revoke'],
    released: ['release'],
  };
  const lifecycle = new PartitionLifecycle(3);
  for (const event of paths[target]) lifecycle.apply(event);
  expect(lifecycle.state).to.equal(target);
  return lifecycle;
}

describe('kafka source: partition lifecycle state machine', () => {
  it('walks every (state, event) pair: allowed moves land where the table says, the rest throw and change nothing', () => {
    let allowed = 0;
    for (const state of STATES) {
      for (const event of EVENTS) {
        const lifecycle = lifecycleIn(state);
        const next = nextPartitionState(state, event);
        if (next === null) {
          expect(() => lifecycle.apply(event), `${state} --${event}-->`).to.throw(IllegalPartitionTransitionError, new RegExp(`'${event}' is not allowed in state '${state}'`));
          expect(lifecycle.state).to.equal(state);
        } else {
          expect(lifecycle.apply(event)).to.equal(next);
          allowed++;
        }
      }
    }
    expect(allowed).to.equal(12);
  });

  it('released is final, and only an active partition has its records handled', () => {
    expect(PARTITION_TRANSITIONS.released).to.deep.equal({});
    expect(STATES.filter((state) => RECORD_ACTION[state] === 'handle')).to.deep.equal(['active']);
    expect(STATES.filter((state) => RECORD_ACTION[state] === 'hold')).to.deep.equal(['restoring']);
    // Every state can reach released: no partition is stuck assigned.
    for (const state of STATES) {
      const seen = new Set<PartitionState>([state]);
      for (let changed = true; changed; ) {
        changed = false;
        for (const from of [...seen]) for (const to of Object.values(PARTITION_TRANSITIONS[from])) {
          if (seen.has(to)) continue;
          seen.add(to);
          changed = true;
        }
      }
      expect(seen.has('released'), state).to.equal(true);
    }
  });

  it('a record is held while restoring and handed back, in order, once prepared', () => {
    const partition = new AssignedPartition('in', 0, 1);
    partition.hold(message(0, 5));
    partition.hold(message(0, 6));
    expect(partition.prepared(null).map((m) => m.offset)).to.deep.equal([5, 6]);
    expect(partition.state).to.equal('active');
    expect(() => partition.hold(message(0, 7))).to.throw(/held only while restoring/);
  });

  it('a rewind seeks back to the last commit, drops what was unsettled and changes the assignment id', () => {
    const partition = new AssignedPartition('in', 0, 1);
    partition.prepared(null);
    const seqs = [10, 11, 12].map((offset) => track(partition, offset));
    partition.tracker.settle(seqs[0]!);
    markCommitted(new Map([[0, partition]]), offsetsToCommit([partition], { completedLeftOut: 0 }, () => {}));
    expect(partition.lastCommitted).to.equal(11);
    let id = 7;
    expect(rewindToCommitted([partition], () => id++)).to.equal(2);
    expect(partition.state).to.equal('rewinding');
    expect(partition.assignmentId).to.equal(7);
    expect(partition.owns(1)).to.equal(false);
    expect(partition.takeSeek()).to.equal(11);
    expect(partition.state).to.equal('active');
    expect(partition.takeSeek()).to.equal(null);
  });

  it('after a rewind, records fetched before the seek took effect (at or past where reading had got to) are dropped until the re-read begins', () => {
    const partition = new AssignedPartition('in', 0, 1);
    partition.prepared(null);
    const seqs = [10, 11, 12, 13].map((offset) => track(partition, offset));
    partition.tracker.settle(seqs[0]!);
    markCommitted(new Map([[0, partition]]), offsetsToCommit([partition], { completedLeftOut: 0 }, () => {}));
    rewindToCommitted([partition], () => 2);
    expect(partition.takeSeek()).to.equal(11);
    // Already in the client's queue when the seek was issued: 14 and 15 come first, and are not the re-read.
    expect(partition.fetchedBeforeSeek(14)).to.equal(true);
    expect(partition.fetchedBeforeSeek(15)).to.equal(true);
    // The re-read from the committed offset ends the wait; from then on every record is handled.
    expect(partition.fetchedBeforeSeek(11)).to.equal(false);
    expect(partition.fetchedBeforeSeek(14)).to.equal(false);
  });

  it('a rewind with nothing read past the commit has no stale records to drop', () => {
    const partition = new AssignedPartition('in', 0, 1);
    partition.prepared(null);
    const seq = track(partition, 10);
    partition.tracker.settle(seq);
    markCommitted(new Map([[0, partition]]), offsetsToCommit([partition], { completedLeftOut: 0 }, () => {}));
    rewindToCommitted([partition], () => 2);
    partition.takeSeek();
    expect(partition.fetchedBeforeSeek(11)).to.equal(false);
  });

  it('abandoned settlements of a revoking partition run at its release, after its unsettled records are counted out', () => {
    const partition = new AssignedPartition('in', 0, 4);
    partition.prepared(null);
    track(partition, 0);
    partition.beginRevoking();
    expect(partition.owns(4)).to.equal(false);
    const order: string[] = [];
    expect(partition.settleAtRelease(4, () => order.push('settled'))).to.equal(true);
    expect(partition.settleAtRelease(3, () => order.push('other'))).to.equal(false);
    partition.release((unsettled) => order.push(`dropped ${unsettled}`));
    expect(order).to.deep.equal(['dropped 1', 'settled']);
    expect(partition.state).to.equal('released');
  });

  describe('property: random event sequences', () => {
    type Step =
      | { kind: 'assign' | 'prepared' | 'rewind' | 'begin-revoke' | 'release' | 'seek' | 'commit'; partition: number }
      | { kind: 'fetch'; partition: number; count: number }
      | { kind: 'settle'; partition: number; pick: number };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ kind: fc.constantFrom('assign', 'prepared', 'rewind', 'begin-revoke', 'release', 'seek', 'commit'), partition: fc.nat(2) }),
      fc.record({ kind: fc.constant('fetch' as const), partition: fc.nat(2), count: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ kind: fc.constant('settle' as const), partition: fc.nat(2), pick: fc.nat(20) }),
    ) as fc.Arbitrary<Step>;

    interface Tracked {
      readonly offset: number;
      readonly seq: number;
      readonly tracker: PartitionOffsetTracker;
      settled: boolean;
    }
    interface Model {
      current: AssignedPartition | null;
      /** Where the consumer fetches next (the log end it has read to, or where a seek put it). */
      fetchAt: number;
      tracked: Tracked[];
      lifecycles: AssignedPartition[];
    }

    it('never handles a record of a partition that is not active, never commits past an unsettled record, and every partition is in exactly one state', () => {
      fc.assert(
        fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
          const models: Model[] = [0, 1, 2].map(() => ({ current: null, fetchAt: 0, tracked: [], lifecycles: [] }));
          let nextId = 1;
          for (const s of steps) {
            const model = models[s.partition]!;
            const p = model.current;
            if (s.kind === 'assign') {
              if (p !== null) continue; // the client never assigns an assigned partition
              model.current = new AssignedPartition('in', s.partition, nextId++);
              model.lifecycles.push(model.current);
              model.tracked = [];
              continue;
            }
            if (p === null) continue;
            const before = p.state;
            switch (s.kind) {
              case 'fetch':
                for (let i = 0; i < s.count; i++) {
                  const offset = model.fetchAt++;
                  const action = p.recordAction;
                  if (action === 'handle') model.tracked.push(handle(p, offset));
                  else if (action === 'hold') p.hold(message(s.partition, offset));
                  // Nothing of a partition that is not active is ever tracked.
                  expect(action === 'handle').to.equal(before === 'active');
                }
                break;
              case 'settle': {
                const open = model.tracked.filter((t) => !t.settled);
                if (open.length === 0) break;
                const record = open[s.pick % open.length]!;
                record.settled = true;
                // A record of an earlier assignment or rewind no longer moves this one's commits.
                expect(record.tracker.settle(record.seq)).to.equal(record.tracker === p.tracker);
                break;
              }
              case 'prepared':
                expectMove(p, 'prepared', () => {
                  for (const held of p.prepared(null)) model.tracked.push(handle(p, held.offset));
                });
                break;
              case 'rewind': {
                if (before === 'released') break;
                const oldTracker = p.tracker;
                rewindToCommitted([p], () => nextId++);
                if (before !== 'restoring' && p.tracker !== oldTracker) model.tracked = [];
                break;
              }
              case 'seek': {
                const seekTo = p.takeSeek();
                if (seekTo !== null) {
                  expect(before).to.equal('rewinding');
                  model.fetchAt = seekTo;
                }
                break;
              }
              case 'begin-revoke':
                expectMove(p, 'begin-revoke', () => p.beginRevoking());
                break;
              case 'release':
                expectMove(p, 'release', () => p.release(() => {}));
                if (p.state === 'released') model.current = null;
                break;
              case 'commit': {
                const offsets = offsetsToCommit([p], { completedLeftOut: 0 }, () => {});
                for (const { offset } of offsets) {
                  // Never beyond what settled: every record of this tracker below the commit has settled.
                  for (const t of model.tracked) if (t.tracker === p.tracker && t.offset < offset) expect(t.settled, `offset ${t.offset} below commit ${offset}`).to.equal(true);
                  expect(offset).to.be.at.most(p.nextOffset);
                }
                if (before === 'restoring' || before === 'released') expect(offsets).to.deep.equal([]);
                markCommitted(new Map([[s.partition, p]]), offsets);
                break;
              }
            }
            // Revoked or being revoked: never fetched from (paused) and not owned.
            if (p.state === 'revoking') expect(p.holdsFetching && !p.owns(p.assignmentId)).to.equal(true);
          }
          // Every lifecycle is in exactly one state; all but the current one of a partition are released.
          for (const model of models) {
            for (const lifecycle of model.lifecycles) {
              expect(STATES.filter((state) => state === lifecycle.state)).to.have.length(1);
              if (lifecycle !== model.current) expect(lifecycle.state).to.equal('released');
            }
            if (model.current !== null) expect(model.current.state).to.not.equal('released');
          }
        }),
        { numRuns: 300 },
      );
    });
  });
});

/** Applies a lifecycle move: it throws exactly when the table does not allow it. */
function expectMove(partition: AssignedPartition, event: PartitionEvent, move: () => void): void {
  const before = partition.state;
  const next = nextPartitionState(before, event);
  if (next === null) {
    expect(move).to.throw(IllegalPartitionTransitionError);
    expect(partition.state).to.equal(before);
  } else {
    move();
    expect(partition.state).to.equal(next);
  }
}

function message(partition: number, offset: number): Message {
  return { topic: 'in', partition, offset, key: null, value: Buffer.alloc(0), size: 0 } as Message;
}

/** As the source handles an active partition's record: tracked, next offset moved. */
function track(partition: AssignedPartition, offset: number): number {
  const seq = partition.tracker.track(offset);
  partition.nextOffset = offset + 1;
  if (partition.firstOffset < 0) partition.firstOffset = offset;
  return seq;
}

function handle(partition: AssignedPartition, offset: number): { offset: number; seq: number; tracker: PartitionOffsetTracker; settled: boolean } {
  return { offset, seq: track(partition, offset), tracker: partition.tracker, settled: false };
}
