/**
 * The source's idle clock (what `--until-idle` stops on), against the real broker: time partitions
 * spend paused is not idle time. A partition with no record to read yields no event time, so
 * watermark alignment holds the other partitions back until it counts as idle (`idleTimeoutMs`,
 * `--partition-idle-timeout`). When they resume, the run is not idle: it has their records to read.
 * Before this was fixed a run with `--until-idle` shorter than the partition idle timeout stopped
 * right there, with those records unread (the exactly-once kill test's "committed offsets differ").
 */
import { expect } from 'chai';
import { KafkaSource } from '../../runtime/kafka/source.js';
import { ensureTopics } from '../../runtime/kafka/admin.js';
import { writeRawRecords } from '../../runtime/kafka/topic-writer.js';
import { createTopicSerde } from '../../runtime/serde/index.js';
import { InferenceEventContract, type InferenceEvent } from '../../schemas/index.js';
import { generateInferenceEvents } from '../../lab/generator/simple-stream.js';
import { sharedBroker, uniqueName } from '../support/broker.js';
import { waitUntil } from '../chaos/support/chaos.js';

describe('integration: the source idle clock', function () {
  this.timeout(120_000);

  it('does not count the time partitions were held back by watermark alignment as idle', async () => {
    const { brokers } = await sharedBroker();
    const topic = uniqueName('idle-in');
    await ensureTopics(brokers, [{ topic, partitions: 2 }]);
    const serde = createTopicSerde({ contract: InferenceEventContract, topic });
    const events = [...generateInferenceEvents({ count: 4_000, seed: 5 }).events];
    const toPartition = (partition: number, from: number, to: number) =>
      events.slice(from, to).map((event) => ({ key: event.model_id, partition, ...serde.encode(event) }));
    // Partition 0 holds records, all before where the source starts ('latest'): it yields none.
    await writeRawRecords(brokers, topic, toPartition(0, 0, 1_000));
    const idleTimeoutMs = 6_000;
    let fatal: Error | null = null;
    let consumed = 0;
    const source = new KafkaSource<InferenceEvent>({
      brokers,
      group: uniqueName('idle'),
      topic,
      decode: (bytes, headers) => serde.decode(bytes, headers),
      eventTime: (event) => event.ts,
      onDeadLetter: () => expect.fail('nothing here is dead-lettered'),
      maxUnsettled: 1_000,
      partitionHighWater: 10_000,
      partitionLowWater: 5_000,
      batchSize: 100,
      commitIntervalMs: 500,
      allowedLatenessMs: 0,
      idleTimeoutMs,
      maxEventTimeDriftMs: 60_000,
      startFrom: 'latest',
      log: () => {},
    });
    await source.start(
      (envelope) => {
        consumed++;
        envelope.settlement.settle('delivered');
      },
      (error) => (fatal = error),
    );
    try {
      await waitUntil('partitions are assigned', 30_000, () => source.readiness(0).assignedPartitions === 2);
      // Partition 1's first record (read from 'latest' once the source knows where that is) puts it
      // ahead of partition 0, which has no event time yet: it is held back until partition 0 is idle.
      // A record written before the source resolved 'latest' is skipped: write one at a time until one is read.
      let next = 1_000;
      while (consumed === 0 && next < 1_020) {
        await writeRawRecords(brokers, topic, toPartition(1, next, ++next));
        await waitUntil('a first record of partition 1 is read', 2_000, () => consumed > 0).catch(() => {});
      }
      await waitUntil('partition 1 is held back', 30_000, () => consumed > 0 && source.stats.alignedPartitions === 1);
      const heldAtMs = Date.now();
      const expected = consumed + 4_000 - next;
      await writeRawRecords(brokers, topic, toPartition(1, next, 4_000));
      await waitUntil('partition 1 is let go', 30_000, () => source.stats.pausedPartitions === 0);
      const idleAtResumeMs = source.idleForMs();
      const heldForMs = Date.now() - heldAtMs;
      await waitUntil('every record of partition 1 is read', 30_000, () => fatal !== null || consumed === expected);
      expect(fatal, String(fatal)).to.equal(null);
      // Partition 0's idle clock started at the assignment, a little before partition 1 was held.
      expect(heldForMs, 'held until partition 0 counted as idle').to.be.at.least(idleTimeoutMs / 4);
      // Without the fix the idle time at the resume is at least the time held.
      expect(idleAtResumeMs, `idle time at the resume, after ${heldForMs} ms held`).to.be.below(heldForMs / 2);
    } finally {
      await source.stopFetching();
      await source.close();
    }
  });
});
