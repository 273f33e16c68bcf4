/**
 * The source's rewind after an aborted transaction (exactly-once), against the real broker and client.
 * A rewind must take effect the moment it is asked for: a record read before it and produced after it
 * would land in the next transaction and then be read (and produced) again — a duplicate in
 * `read_committed` output. Seen once in CI as 1659 duplicates in the 1 → 2 → 1 exactly-once handover,
 * when a partition's restore finished between the abort and the consume loop's next turn, where the
 * rewind used to be applied.
 */
import { expect } from 'chai';
import type { Envelope } from '../../runtime/envelope.js';
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
});
