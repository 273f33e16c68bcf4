/**
 * Chaos: a burst written far faster than the topology can process it (a step held to ~100 records/s
 * at CI size, ~1000 at full size; the burst lands at 50× that or more). Proves backpressure holds under overload:
 * unsettled records never pass --max-unsettled, partitions pause, memory stays bounded (RSS printed),
 * and the lag drains to zero afterwards with every offset committed.
 */
import { expect } from 'chai';
import { throttledTopology } from './support/throttled-topology.js';
import { runTopology } from '../../runtime/runner.js';
import { committedOffsets, endOffsets, ensureTopics } from '../../runtime/kafka/admin.js';
import { writeTopic } from '../../runtime/kafka/topic-writer.js';
import { InferenceEventContract } from '../../schemas/index.js';
import { generateInferenceEvents } from '../../lab/generator/simple-stream.js';
import { sharedBroker, uniqueName } from '../support/broker.js';
import { sleep, testRunConfig } from '../support/kafka-fixtures.js';
import { figures, megabytes, seconds, sized, waitUntil } from './support/chaos.js';

describe('chaos: 50× overload', function () {
  // Processing is held to ~recordsPerSecond; the burst is written as fast as the producer goes.
  const recordsPerSecond = sized(100, 1_000);
  const burst = sized(3_000, 100_000);
  const maxUnsettled = 400;
  this.timeout(sized(180_000, 600_000));

  it(`holds unsettled under --max-unsettled through a ${burst}-record burst, with bounded memory, and drains the lag`, async () => {
    const { brokers } = await sharedBroker();
    const input = uniqueName('chaos-burst-in');
    const output = uniqueName('chaos-burst-out');
    const group = uniqueName('chaos-burst');
    await ensureTopics(brokers, [{ topic: input, partitions: 4 }]);
    const events = [...generateInferenceEvents({ count: burst, seed: 21 }).events];
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const running = await runTopology(throttledTopology(recordsPerSecond), testRunConfig(brokers, { group, topics: { input, output }, untilIdleMs: undefined, maxUnsettled, partitionHighWater: 60, batchSize: 100 }));

    let rssPeak = rssBefore;
    let unsettledPeak = 0;
    let pausedPeak = 0;
    let lagPeak = 0;
    let written = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const stats = running.stats();
        rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
        unsettledPeak = Math.max(unsettledPeak, stats.unsettled);
        pausedPeak = Math.max(pausedPeak, stats.pausedPartitions);
        lagPeak = Math.max(lagPeak, written - stats.consumed);
        await sleep(25);
      }
    })();

    const burstAt = Date.now();
    // The write rate is timed from the first slice handed to the producer, leaving out its connect.
    let firstSliceAt = 0;
    const slice = burst / 10;
    await writeTopic(events, {
      brokers,
      topic: input,
      contract: InferenceEventContract,
      progressEvery: slice,
      onProgress: (n) => {
        written = n;
        if (n === slice) firstSliceAt = Date.now();
      },
    });
    written = burst;
    const burstEndAt = Date.now();
    const burstMs = burstEndAt - burstAt;
    const consumedAtBurstEnd = running.stats().consumed;
    await waitUntil('the lag drains: every burst record consumed and settled', sized(150_000, 540_000), () => {
      const stats = running.stats();
      return stats.consumed >= burst && stats.unsettled === 0;
    });
    const drainedMs = Date.now() - burstAt;
    sampling = false;
    await sampler;
    const summary = await running.stop();
    expect(summary.reason, summary.error).to.equal('stopped');

    expect(unsettledPeak).to.be.at.most(maxUnsettled);
    expect(summary.maxUnsettledSeen).to.be.at.most(maxUnsettled);
    expect(pausedPeak, 'partitions paused under overload').to.be.greaterThan(0);
    expect(lagPeak, 'the burst outran processing').to.be.greaterThan(burst / 4);
    // Bounded memory: the burst is held by Kafka, not by this process (a generous bound, not a tuning target).
    expect(rssPeak - rssBefore).to.be.below(400 * 1024 * 1024);
    const ends = await endOffsets(brokers, input);
    expect(await committedOffsets(brokers, group, input, 4)).to.deep.equal(ends);

    const writeRate = (burst - slice) / (Math.max(1, burstEndAt - firstSliceAt) / 1000);
    const processRate = (burst - consumedAtBurstEnd) / ((drainedMs - burstMs) / 1000);
    figures('overload', {
      burst,
      'written at': `${Math.round(writeRate)}/s`,
      'processed at': `${Math.round(processRate)}/s`,
      overload: `${(writeRate / processRate).toFixed(0)}×`,
      'unsettled peak': `${unsettledPeak} (limit ${maxUnsettled})`,
      'lag peak': lagPeak,
      'lag drained after': seconds(drainedMs - burstMs),
      RSS: `${megabytes(rssBefore)} → peak ${megabytes(rssPeak)}`,
    });
  });
});
