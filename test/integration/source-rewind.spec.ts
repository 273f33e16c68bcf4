/**
 * The source's rewind after an aborted transaction (exactly-once), against the real broker and client.
 * A rewind must take effect the moment it is asked for: a record read before it and produced after it
 * would land in the next transaction and then be read (and produced) again — a duplicate in
 * `read_committed` output. Seen once in CI as 1659 duplicates in the 1 → 2 → 1 exactly-once handover,
 * when a partition's restore finished between the abort and the consume loop's next turn, where the
 * rewind used to be applied.
 */
import { expect } from 'chai';
import type { Envelope } from '../../core/envelope.js';
import type { InferenceEvent } from '../../schemas/index.js';
import { sharedBroker, uniqueName } from '../support/broker.js';
import { feedEvents } from '../support/kafka-fixtures.js';
import { waitUntil } from '../chaos/support/chaos.js';
import { inferenceSource } from '../support/inference-source.js';

describe('integration: the source rewinds at once after an aborted transaction', function () {
  this.timeout(120_000);

  it('disowns what it handed out, commits nothing of it, and reads each offset again once from the committed position', async () => {
    const { brokers } = await sharedBroker();
    const topic = uniqueName('rewind-in');
    const events = await feedEvents(brokers, topic, 2_000);
    const maxUnsettled = 400;
    const source = inferenceSource({ brokers, group: uniqueName('rewind'), topic, maxUnsettled, commitBy: 'transaction', beforeRevoke: async () => {} });
    const held: Envelope<InferenceEvent>[] = [];
    let fatal: Error | null = null;
    await source.start((envelope) => held.push(envelope), (error) => (fatal = error));
    try {
      await waitUntil(`${maxUnsettled} records are unsettled`, 60_000, () => source.stats.unsettled >= maxUnsettled);
      // "Commit a transaction" with the first half of what was read, then settle the rest, as if its
      // outputs were acknowledged inside the next transaction — the one about to be aborted.
      const firstHalf = held.splice(0, maxUnsettled / 2);
      for (const envelope of firstHalf) envelope.settlement.settle('delivered');
      const committed = source.offsetsToCommit();
      expect(committed.length, 'something to commit').to.be.greaterThan(0);
      source.markCommitted(committed);
      const inAborted = held.splice(0);
      for (const envelope of inAborted) envelope.settlement.settle('delivered');
      expect(source.offsetsToCommit().length, 'the aborted transaction had offsets to commit').to.be.greaterThan(0);

      source.rewind();

      // At once, in the same turn: nothing read before the rewind is owned (so never produced) and
      // nothing that settled under the aborted transaction can be committed.
      expect(inAborted.filter((envelope) => source.owns(envelope.origin)), 'records read before the rewind still owned').to.have.length(0);
      expect(source.offsetsToCommit(), 'offsets of the aborted transaction').to.deep.equal([]);

      // Then every partition is read again from its committed offset: each offset once, in order, to the end.
      const committedAt = new Map<number, number>(committed.map(({ partition, offset }) => [partition, offset]));
      const reread = new Map<number, number[]>();
      await waitUntil('every record after the committed offsets is read again', 60_000, () => {
        for (const envelope of held.splice(0)) {
          expect(source.owns(envelope.origin), 'a record read after the rewind is owned').to.equal(true);
          const { partition, offset } = envelope.origin;
          reread.set(partition, [...(reread.get(partition) ?? []), offset]);
          envelope.settlement.settle('delivered');
        }
        const total = [...reread.values()].reduce((sum, offsets) => sum + offsets.length, 0);
        const alreadyCommitted = committed.reduce((sum, { offset }) => sum + offset, 0);
        return fatal !== null || total >= events.length - alreadyCommitted;
      });
      expect(fatal, String(fatal)).to.equal(null);
      for (const [partition, offsets] of reread) {
        const from = committedAt.get(partition) ?? 0;
        expect(offsets[0], `partition ${partition} starts again at its committed offset`).to.equal(from);
        expect(offsets.every((offset, i) => i === 0 || offset === offsets[i - 1]! + 1), `partition ${partition}: each offset once, in order`).to.equal(true);
      }
      const rereadCount = [...reread.values()].reduce((sum, offsets) => sum + offsets.length, 0);
      console.log(`      rewind: ${inAborted.length} records of the aborted transaction disowned at once; ${rereadCount} read again from the committed offsets, each once`);
    } finally {
      await source.stopFetching();
      await source.close();
    }
  });

  it('while a partition is being revoked, its records are not owned and an abandoned one settles only once the partition is let go', async () => {
    const { brokers } = await sharedBroker();
    const topic = uniqueName('letgo-in');
    const group = uniqueName('letgo');
    const events = await feedEvents(brokers, topic, 2_000);
    // Room for every record: the consume loop keeps polling, which is where the client serves rebalances.
    const maxUnsettled = 10_000;
    let letGo!: () => void;
    const revoking: number[] = [];
    const source = inferenceSource({
      brokers,
      group,
      topic,
      maxUnsettled,
      commitBy: 'transaction',
      // Holds the revoke until the test lets it go (the runner commits its transaction here).
      beforeRevoke: (partitions) => {
        if (revoking.length > 0) return Promise.resolve(); // later revokes (the close) go at once
        revoking.push(...partitions);
        return new Promise<void>((resolve) => (letGo = resolve));
      },
    });
    const held: Envelope<InferenceEvent>[] = [];
    await source.start((envelope) => held.push(envelope), (error) => expect.fail(String(error)));
    const joiner = inferenceSource({ brokers, group, topic, maxUnsettled, commitBy: 'transaction', beforeRevoke: async () => {} });
    try {
      await waitUntil('every record is read and held unsettled', 60_000, () => source.stats.unsettled >= events.length);
      // A second member joins: cooperative-sticky revokes some partitions of the first.
      await joiner.start((envelope) => envelope.settlement.settle('delivered'), (error) => expect.fail(String(error)));
      await waitUntil('a revoke', 60_000, () => revoking.length > 0);
      const moving = held.find((envelope) => revoking.includes(envelope.origin.partition))!;
      const staying = held.find((envelope) => !revoking.includes(envelope.origin.partition));
      expect(moving, 'a record of a partition being revoked').to.not.equal(undefined);
      expect(source.owns(moving.origin), 'a record of a partition being revoked is owned').to.equal(false);
      if (staying !== undefined) expect(source.owns(staying.origin)).to.equal(true);

      let settledMoving = false;
      source.whenLetGo(moving.origin, () => {
        moving.settlement.settle('dropped');
        settledMoving = true;
      });
      // Held while the revoke commits: a settle now would let that commit pass a record never produced.
      expect(settledMoving, 'settled before the partition was let go').to.equal(false);
      const before = source.offsetsToCommit().find((o) => o.partition === moving.origin.partition);
      expect(before === undefined || before.offset <= moving.origin.offset, 'the commit passes the abandoned record').to.equal(true);
      if (staying !== undefined) {
        let settledStaying = false;
        source.whenLetGo(staying.origin, () => (settledStaying = true));
        expect(settledStaying, 'a record of a partition still owned settles at once').to.equal(true);
      }
      letGo();
      await waitUntil('the partition is let go', 30_000, () => settledMoving);
      console.log(`      revoke: partitions [${revoking.join(', ')}] moving; a record of theirs was not owned, and its settle waited for the partition to be let go`);
    } finally {
      letGo?.();
      await joiner.stopFetching();
      await source.stopFetching();
      await Promise.all([joiner.close(), source.close()]);
    }
  });
});
