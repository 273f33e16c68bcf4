/**
 * Chaos: 1 → 3 → 1 instances of one topology in one consumer group while records flow. Kafka moves
 * partitions on each change; the instances that leave drain and commit (SIGTERM-like stop), the ones
 * that stay take over. Proves no record is lost across the rebalances; duplicates are counted.
 *
 * Extend it with stateful topologies: `topologyFor` builds each instance's topology, and `afterRun`
 * gets every instance's summary, so a state-handover check (a windowed dedup that must not re-emit
 * across the move) slots in beside the loss check.
 */
import { expect } from 'chai';
import passthrough from '../../topologies/passthrough/index.js';
import { runTopology, type RunningTopology } from '../../runtime/runner.js';
import { committedOffsets, endOffsets } from '../../runtime/kafka/admin.js';
import type { Topology } from '../../runtime/topology.js';
import { sharedBroker, uniqueName } from '../support/broker.js';
import { testRunConfig } from '../support/kafka-fixtures.js';
import { figures, pacedFeed, seconds, sized, tally, waitUntil } from './support/chaos.js';

describe('chaos: 1 → 3 → 1 instances in one consumer group', function () {
  const records = sized(12_000, 120_000);
  const ratePerSecond = sized(500, 2_000);
  this.timeout(sized(180_000, 600_000));

  /** The topology of instance `index` (all the same here; a stateful one for the handover check). */
  const topologyFor = (_index: number): Topology<unknown> => passthrough as Topology<unknown>;

  it('loses nothing while instances join and leave mid-stream', async () => {
    const { brokers } = await sharedBroker();
    const input = uniqueName('chaos-scale-in');
    const output = uniqueName('chaos-scale-out');
    const group = uniqueName('chaos-scale');
    const feed = await pacedFeed(brokers, input, records, ratePerSecond, 17);
    const start = (index: number): Promise<RunningTopology> =>
      runTopology(topologyFor(index), testRunConfig(brokers, { group, topics: { input, output }, untilIdleMs: undefined, commitIntervalMs: 200, drainTimeoutMs: 20_000 }));
    const delivered = (instances: readonly RunningTopology[]): number => instances.reduce((sum, r) => sum + r.stats().delivered, 0);

    const first = await start(0);
    await waitUntil('the first instance delivers a tenth of the stream', 120_000, () => first.stats().delivered >= records / 10);

    const scaleOutAt = Date.now();
    const added = await Promise.all([start(1), start(2)]);
    await waitUntil('both new instances consume (partitions moved to them)', 120_000, () => added.every((r) => r.stats().consumed > 0));
    const scaleOutMs = Date.now() - scaleOutAt;
    const all = [first, ...added];
    await waitUntil('half the stream is delivered', 180_000, () => delivered(all) >= records / 2);
    const byInstanceAtThree = all.map((r) => r.stats().consumed);

    const scaleInAt = Date.now();
    const leftSummaries = await Promise.all(added.map((r) => r.stop()));
    for (const summary of leftSummaries) expect(summary.reason, summary.error).to.equal('stopped');
    const consumedByFirstAtScaleIn = first.stats().consumed;
    await waitUntil('the remaining instance consumes again', 120_000, () => first.stats().consumed > consumedByFirstAtScaleIn);
    const scaleInMs = Date.now() - scaleInAt;

    await feed.done;
    const ends = await endOffsets(brokers, input);
    await waitUntil('every input offset is committed', 180_000, async () => JSON.stringify(await committedOffsets(brokers, group, input, 4)) === JSON.stringify(ends));
    const lastSummary = await first.stop();
    expect(lastSummary.reason, lastSummary.error).to.equal('stopped');

    const result = await tally(brokers, feed.events.map((e) => e.event_id), output);
    expect(result.lost, `lost ids, e.g. ${result.lostSample.join(', ')}`).to.equal(0);
    expect(byInstanceAtThree.every((n) => n > 0), 'all three instances did work').to.equal(true);
    figures('1 → 3 → 1', {
      records,
      'consumed per instance while three': byInstanceAtThree.join('/'),
      'scale-out → new instances consuming': seconds(scaleOutMs),
      'scale-in → survivor consuming again': seconds(scaleInMs),
      lost: result.lost,
      duplicated: result.duplicates,
    });
  });
});
