/**
 * Records completed ahead of the commit position, against the real broker: a source commits them in
 * the offset metadata, and the partition's next owner skips exactly those — so a handover (rebalance,
 * restart, or a rewind after an aborted transaction) does not produce their outputs a second time,
 * and loses nothing.
 */
import { expect } from 'chai';
import type { KafkaSource } from '../../runtime/kafka/source.js';
import type { Envelope } from '../../core/envelope.js';
import type { InferenceEvent } from '../../schemas/index.js';
import { sharedBroker, uniqueName } from '../support/broker.js';
import { feedEvents } from '../support/kafka-fixtures.js';
import { waitUntil } from '../chaos/support/chaos.js';
import { inferenceSource } from '../support/inference-source.js';

describe('integration: the source hands over records completed ahead of its commit', function () {
  this.timeout(120_000);

  it('the next owner skips exactly what completed ahead of the committed offset, and reads everything else', async () => {
    const { brokers } = await sharedBroker();
    const topic = uniqueName('ahead-in');
    const group = uniqueName('ahead');
    const events = await feedEvents(brokers, topic, 2_000);
    const maxUnsettled = 400;
    const sourceIn = (logs: string[]): KafkaSource<InferenceEvent> =>
      inferenceSource({ brokers, group, topic, maxUnsettled, commitIntervalMs: 60_000, log: (line) => logs.push(line) });

    // The first owner: steps settle out of order — odd offsets complete, even ones are still in flight.
    const first = sourceIn([]);
    const firstHeld: Envelope<InferenceEvent>[] = [];
    await first.start((envelope) => firstHeld.push(envelope), (error) => expect.fail(String(error)));
    const completedByFirst = new Set<string>();
    try {
      await waitUntil(`${maxUnsettled} records are unsettled`, 60_000, () => first.stats.unsettled >= maxUnsettled);
      for (const envelope of firstHeld) {
        if (envelope.origin.offset % 2 === 1) {
          envelope.settlement.settle('delivered');
          completedByFirst.add(`${envelope.origin.partition}@${envelope.origin.offset}`);
        }
      }
    } finally {
      await first.stopFetching();
      await first.close(); // commits each partition's position with what completed ahead of it
    }
    expect(completedByFirst.size).to.be.greaterThan(100);

    // The next owner: reads from the committed offsets, skipping what the first completed.
    const logs: string[] = [];
    const next = sourceIn(logs);
    const readByNext = new Set<string>();
    let readTwice = 0;
    await next.start(
      (envelope) => {
        const at = `${envelope.origin.partition}@${envelope.origin.offset}`;
        if (readByNext.has(at)) readTwice++;
        readByNext.add(at);
        envelope.settlement.settle('delivered');
      },
      (error) => expect.fail(String(error)),
    );
    try {
      await waitUntil('every record is read by one owner or the other', 60_000, () => readByNext.size + completedByFirst.size >= events.length);
      const readAgain = [...completedByFirst].filter((at) => readByNext.has(at));
      expect(readAgain, 'records completed by the first owner, read again').to.deep.equal([]);
      expect(readTwice).to.equal(0);
      expect(readByNext.size + completedByFirst.size, 'every record read by exactly one owner').to.equal(events.length);
      expect(next.stats.skippedCompleted).to.equal(completedByFirst.size);
      console.log(`      handover: ${completedByFirst.size} records completed ahead of the commit were skipped by the next owner; ${readByNext.size} read; 0 read twice, 0 lost`);
    } finally {
      await next.stopFetching();
      await next.close();
    }
  });
});
