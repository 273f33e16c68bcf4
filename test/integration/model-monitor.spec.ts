/**
 * model-monitor end to end on the real broker: generated events with injected incidents → the
 * topology (with the model registry over HTTP) → mentions; every input committed, mentions produced,
 * the sampler's budget kept on the broker as in the test driver, and at least one incident found.
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

  it('40k generated events: mentions produced, every input committed, the sampling budget kept, an injected incident found', async () => {
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
      // The sampler keeps about its 10% budget on the broker too. It kept ~3% before the source held
      // the partitions that had produced until every partition had (at start-up one partition's first
      // fetch spans minutes of event time, the watermark raced ahead and closed the others' epochs).
      expect(probe.sampled / count, `sampled ${probe.sampled}, ${probe.lateAtSampler} late at the sampler`).to.be.within(0.07, 0.11);
      expect(probe.lateAtSampler / count).to.be.below(0.1);
      // …and so the detectors see enough of the incidents' traffic to find at least one of them.
      expect(score.incidents_detected, JSON.stringify(score.per_incident.map((i) => [i.kind, i.affected_events, i.detected]))).to.be.at.least(1);
    } finally {
      await registry.stop();
    }
  });
});
