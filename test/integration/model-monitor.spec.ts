/**
 * model-monitor end to end on the real broker: generated events with injected incidents → the
 * topology (with the model registry over HTTP) → mentions; every input committed, mentions produced.
 */
import { expect } from 'chai';
import { generateStream } from '../../lab/generator/index.js';
import { scoreMentions } from '../../lab/evaluate/index.js';
import { startModelRegistry } from '../../lab/model-registry/index.js';
import { InferenceEventContract } from '../../schemas/index.js';
import { runTopology } from '../../runtime/runner.js';
import { committedOffsets, endOffsets, ensureTopics } from '../../runtime/kafka/admin.js';
import { writeTopic } from '../../runtime/kafka/topic-writer.js';
import { readMentions } from '../../runtime/cli/evaluate-command.js';
import { readModelMonitorConfig } from '../../topologies/model-monitor/config.js';
import { createModelMonitor } from '../../topologies/model-monitor/topology.js';
import { sharedBroker, uniqueName } from '../support/broker.js';
import { testRunConfig } from '../support/kafka-fixtures.js';

describe('integration: model-monitor', function () {
  this.timeout(120_000);

  it('40k generated events: mentions produced, every input committed', async () => {
    const brokers = (await sharedBroker()).brokers;
    const registry = await startModelRegistry({ seed: 3 });
    try {
      const input = uniqueName('mm-in');
      const mentionsTopic = uniqueName('mm-mentions');
      const group = uniqueName('mm');
      const count = 40_000;
      // A few busy models, so that 40k events give the incidents enough traffic to be seen.
      const stream = generateStream({ count, seed: 11, models: 8, incidents: 6, eventsPerSecond: 50 });
      await ensureTopics(brokers, [{ topic: input, partitions: 4 }]);
      await writeTopic(stream.events, { brokers, topic: input, contract: InferenceEventContract });
      const truth = stream.truth();

      const { topology, probe } = createModelMonitor(readModelMonitorConfig({}, { registryUrl: registry.url }));
      const running = await runTopology(
        topology,
        testRunConfig(brokers, { group, topics: { input, mentions: mentionsTopic, review: `${mentionsTopic}.review`, dlq: `${mentionsTopic}.dlq` }, maxUnsettled: 100_000, partitionHighWater: 50_000, partitionIdleTimeoutMs: 2_000, allowedLatenessMs: 5_000 }),
      );
      const summary = await running.done;
      expect(summary.reason, summary.error).to.equal('idle');
      expect(summary.consumed).to.equal(count);
      expect(summary.drained).to.equal(true);
      const ends = await endOffsets(brokers, input);
      expect(await committedOffsets(brokers, group, input, ends.length)).to.deep.equal(ends);

      const mentions = await readMentions(brokers, mentionsTopic);
      expect(mentions.length).to.be.greaterThan(0);
      expect(probe.enrich.lookups).to.be.greaterThan(0);
      const score = scoreMentions(mentions, truth);
      expect(score.mentions).to.equal(mentions.length);
      expect(probe.sampled).to.be.greaterThan(0);
    } finally {
      await registry.stop();
    }
  });

  // Pending: on the broker the bandit sampler sees about a third of the records per epoch it sees in
  // the topology test driver (which finds both confidence-drop incidents of this stream), so no
  // incident is found here yet. To be fixed before this assertion is switched on.
  it('40k generated events: at least one injected incident found on the broker');
});
