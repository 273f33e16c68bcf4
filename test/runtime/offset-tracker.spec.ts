import { expect } from 'chai';
import fc from 'fast-check';
import { PartitionOffsetTracker } from '../../runtime/offset-tracker.js';
import { createSettlement, mergeSettlements, type Settlement } from '../../core/settlement.js';

describe('PartitionOffsetTracker', () => {
  it('commits nothing before anything is tracked', () => {
    expect(new PartitionOffsetTracker('t', 0).commitOffset()).to.equal(null);
  });

  it('holds the commit at the oldest unsettled record, across gaps in offsets', () => {
    const tracker = new PartitionOffsetTracker('t', 0);
    const seqs = [10, 11, 15, 16].map((offset) => tracker.track(offset));
    tracker.settle(seqs[1]!);
    tracker.settle(seqs[3]!);
    expect(tracker.commitOffset()).to.equal(10);
    tracker.settle(seqs[0]!);
    expect(tracker.commitOffset()).to.equal(15);
    expect(tracker.unsettled).to.equal(1);
    tracker.settle(seqs[2]!);
    expect(tracker.commitOffset()).to.equal(17);
  });

  it('rejects a double settle and offsets that go backwards', () => {
    const tracker = new PartitionOffsetTracker('t', 3);
    const seq = tracker.track(5);
    tracker.settle(seq);
    expect(() => tracker.settle(seq)).to.throw(/settled twice/);
    expect(() => tracker.track(5)).to.throw(/must increase/);
  });

  it('names the settled records ahead of the commit position, as ranges (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.boolean()), { maxLength: 300 }), (records) => {
        const tracker = new PartitionOffsetTracker('t', 0);
        let offset = 0;
        const tracked = records.map(([gap, settle]) => ({ offset: (offset += gap), settle, seq: tracker.track(offset) }));
        for (const record of tracked) if (record.settle) tracker.settle(record.seq);
        const commit = tracker.commitOffset();
        const ranges = tracker.completedAhead();
        const named = new Set(ranges.flatMap(([first, last]) => tracked.filter((r) => r.offset >= first && r.offset <= last).map((r) => r.offset)));
        const expected = tracked.filter((r) => r.settle && commit !== null && r.offset > commit).map((r) => r.offset);
        expect([...named].sort((a, b) => a - b)).to.deep.equal(expected);
        // No range covers an unsettled record, and ranges ascend above the commit position.
        for (const r of tracked) if (!r.settle) expect(ranges.some(([first, last]) => r.offset >= first && r.offset <= last)).to.equal(false);
        for (const [i, [first, last]] of ranges.entries()) expect(first > (i === 0 ? commit! : ranges[i - 1]![1]) && last >= first).to.equal(true);
      }),
      { numRuns: 200 },
    );
  });

  it('ignores settlements after revoke', () => {
    const tracker = new PartitionOffsetTracker('t', 0);
    const seq = tracker.track(0);
    tracker.revoke();
    expect(tracker.settle(seq)).to.equal(false);
    expect(tracker.commitOffset()).to.equal(0);
  });

  // The model: a set of tracked offsets and a set of settled ones. The tracker must never commit past
  // an unsettled offset, and must commit to the end once everything has settled — under any
  // interleaving of tracking, settling through fan-out and merge handles, and revoke.
  it('never commits past an unsettled offset; commits to the end once all settle (property)', () => {
    type Op =
      | { kind: 'track'; gap: number; fanOut: number }
      | { kind: 'settle'; pick: number }
      | { kind: 'merge'; picks: number[] }
      | { kind: 'revoke' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('track' as const), gap: fc.integer({ min: 1, max: 3 }), fanOut: fc.integer({ min: 1, max: 3 }) }) },
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('settle' as const), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('merge' as const), picks: fc.array(fc.nat(), { minLength: 2, maxLength: 4 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('revoke' as const) }) },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), fc.boolean(), (ops, revokeAllowed) => {
        let tracker = new PartitionOffsetTracker('t', 0);
        let nextOffset = 0;
        let unsettledOffsets = new Set<number>();
        let open: Settlement[] = [];
        const checkInvariant = (): void => {
          const commit = tracker.commitOffset();
          if (commit === null) return;
          for (const offset of unsettledOffsets) expect(commit).to.be.at.most(offset);
        };
        for (const o of ops) {
          if (o.kind === 'track') {
            nextOffset += o.gap;
            const offset = nextOffset;
            const owner = tracker;
            const seq = tracker.track(offset);
            unsettledOffsets.add(offset);
            const root = createSettlement(() => {
              if (owner.settle(seq)) unsettledOffsets.delete(offset);
            });
            open.push(...(o.fanOut === 1 ? [root] : root.split(o.fanOut)));
          } else if (o.kind === 'settle' && open.length > 0) {
            const [handle] = open.splice(o.pick % open.length, 1);
            handle!.settle(o.pick % 2 === 0 ? 'delivered' : 'dropped');
          } else if (o.kind === 'merge' && open.length > 1) {
            const members = [...new Set(o.picks.map((p) => p % open.length))].map((i) => open[i]!);
            open = open.filter((h) => !members.includes(h));
            open.push(mergeSettlements(members));
          } else if (o.kind === 'revoke' && revokeAllowed) {
            // A revoked partition is re-assigned: a new tracker resumes after the last offset seen.
            tracker.revoke();
            tracker = new PartitionOffsetTracker('t', 0);
            unsettledOffsets = new Set();
            open = [];
          }
          checkInvariant();
        }
        for (const handle of open) handle.settle('delivered');
        if (tracker.commitOffset() !== null) expect(tracker.commitOffset()).to.equal(nextOffset + 1);
        expect(tracker.unsettled).to.equal(0);
      }),
      { numRuns: 300 },
    );
  });

  it('grows its ring past the initial capacity without losing order', () => {
    const tracker = new PartitionOffsetTracker('t', 0);
    const seqs: number[] = [];
    for (let offset = 0; offset < 5000; offset++) seqs.push(tracker.track(offset));
    for (let i = seqs.length - 1; i >= 1; i--) tracker.settle(seqs[i]!);
    expect(tracker.commitOffset()).to.equal(0);
    expect(tracker.unsettled).to.equal(1);
    tracker.settle(seqs[0]!);
    expect(tracker.commitOffset()).to.equal(5000);
  });
});
