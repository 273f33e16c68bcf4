/**
 * Backpressure: a slow step behind input that can be read 50× faster. Unsettled records never exceed
 * the high-water mark, partitions are paused, and memory stays bounded (printed).
 */
import { expect } from 'chai';
import slow from '../fixtures/topologies/slow.js';
import { runTopology } from '../../runtime/runner.js';
import { committedOffsets, endOffsets } from '../../runtime/kafka/admin.js';
import { sharedBroker, uniqueName } from '../support/broker.js';
import { feedEvents, sleep, testRunConfig } from '../support/kafka-fixtures.js';

describe('integration: backpressure', function () {
  this.timeout(180_000);
  let brokers: string;

  before(async () => {
    brokers = (await sharedBroker()).brokers;
  });

  it('keeps unsettled records under the high-water mark when a step is 50× slower than the input', async () => {
    const input = uniqueName('slow-in');
    const output = uniqueName('slow-out');
    const group = uniqueName('slow');
    const count = 20_000;
    await feedEvents(brokers, input, count);
    const maxUnsettled = 400;
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    let pausedSeen = 0;
    const running = await runTopology(slow, testRunConfig(brokers, { group, topics: { input, output }, maxUnsettled, partitionHighWater: 60, batchSize: 200 }));
    const sampler = (async () => {
      for (;;) {
        const stats = running.stats();
        rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
        pausedSeen = Math.max(pausedSeen, stats.pausedPartitions);
        expect(stats.unsettled).to.be.at.most(maxUnsettled);
        if (stats.consumed >= count && stats.unsettled === 0) return;
        await sleep(50);
      }
    })();
    const summary = await running.done;
    await sampler;
    expect(summary.reason, summary.error).to.equal('idle');
    expect(summary.consumed).to.equal(count);
    expect(summary.maxUnsettledSeen).to.be.at.most(maxUnsettled).and.to.be.greaterThan(maxUnsettled / 4);
    expect(pausedSeen).to.be.greaterThan(0);
    const ends = await endOffsets(brokers, input);
    expect(await committedOffsets(brokers, group, input, ends.length)).to.deep.equal(ends);
    const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(0);
    console.log(`      backpressure: ${count} records, most unsettled ${summary.maxUnsettledSeen} (limit ${maxUnsettled}), paused partitions up to ${pausedSeen}, RSS ${mb(rssBefore)} → peak ${mb(rssPeak)} MB, ${(summary.elapsedMs / 1000).toFixed(1)} s`);
  });
});
