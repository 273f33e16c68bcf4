/**
 * Chaos: the broker is killed (kill -9) mid-stream and started again on the same ports and data, while the
 * topology keeps running in this process (it is not restarted) and records keep being written.
 * Proves the runtime rides out a broker outage on its own: consumption and production resume by
 * themselves, nothing is lost, and every offset ends committed.
 */
import { expect } from 'chai';
import passthrough from '../../topologies/passthrough/index.js';
import { runTopology } from '../../runtime/runner.js';
import { committedOffsets, endOffsets } from '../../runtime/kafka/admin.js';
import { startLocalBroker, type LocalBroker } from '../../runtime/local-broker/local-broker.js';
import { uniqueName } from '../support/broker.js';
import { sleep, testRunConfig } from '../support/kafka-fixtures.js';
import { figures, pacedFeed, seconds, sized, tally, waitUntil } from './support/chaos.js';

describe('chaos: broker killed and restarted mid-stream', function () {
  const records = sized(30_000, 200_000);
  const ratePerSecond = sized(2_000, 4_000);
  const outageMs = sized(3_000, 15_000);
  this.timeout(sized(240_000, 600_000));
  let broker: LocalBroker | null = null;

  after(async () => {
    await broker?.stop();
  });

  it('resumes by itself after the outage and loses nothing', async () => {
    // Its own broker: the shared one must stay up for the other suites.
    broker = await startLocalBroker();
    const brokers = broker.brokers;
    const input = uniqueName('chaos-broker-in');
    const output = uniqueName('chaos-broker-out');
    const group = uniqueName('chaos-broker');
    const feed = await pacedFeed(brokers, input, records, ratePerSecond, 9);
    const log: string[] = [];
    const running = await runTopology(passthrough, testRunConfig(brokers, { group, topics: { input, output }, untilIdleMs: undefined, commitIntervalMs: 200, log: (m) => log.push(m) }));

    await waitUntil('a quarter of the records are delivered', 120_000, () => running.stats().delivered >= records / 4);
    const deliveredAtStop = running.stats().delivered;
    // SIGKILL: the broker crashes (a clean SIGTERM shutdown of a one-node KRaft broker waits ~20 s).
    await broker.halt('SIGKILL');
    const haltedAt = Date.now();
    await sleep(outageMs);
    const deliveredDuringOutage = running.stats().delivered - deliveredAtStop;
    await broker.restart();
    const backAt = Date.now();
    const deliveredAtRestart = running.stats().delivered;
    await waitUntil('the topology delivers again after the restart', 120_000, () => running.stats().delivered > deliveredAtRestart);
    const resumedMs = Date.now() - backAt;

    await feed.done;
    await waitUntil('every record is consumed and settled', 180_000, () => {
      const stats = running.stats();
      return stats.consumed >= records && stats.unsettled === 0 && stats.delivered === stats.produced;
    });
    const summary = await running.stop();
    expect(summary.reason, `${summary.error}\n${log.slice(-20).join('\n')}`).to.equal('stopped');

    const result = await tally(brokers, feed.events.map((e) => e.event_id), output);
    expect(result.lost, `lost ids, e.g. ${result.lostSample.join(', ')}`).to.equal(0);
    const ends = await endOffsets(brokers, input);
    expect(await committedOffsets(brokers, group, input, 4)).to.deep.equal(ends);
    figures('broker restart', {
      records,
      'broker down': seconds(backAt - haltedAt),
      'delivered while down': deliveredDuringOutage,
      'broker back → delivering again': seconds(resumedMs),
      lost: result.lost,
      duplicated: result.duplicates,
    });
  });
});
