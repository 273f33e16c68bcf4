/**
 * model-monitor end to end on the real broker: generated events with injected incidents → the
 * topology (with the model registry over HTTP) → mentions; every input committed, mentions produced,
 * the sampler's budget kept on the broker as in the test driver, and at least one incident found; and
 * a restart resumes with the state of every stateful step (the detectors' baselines do not re-warm).
 */
import { expect } from 'chai';
import { generateStream } from '../../lab/generator/index.js';
import { scoreMentions } from '../../lab/evaluate/index.js';
import { startModelRegistry } from '../../lab/model-registry/index.js';
import { InferenceEventContract } from '../../schemas/index.js';
import { runTopology } from '../../runtime/runner.js';
import { committedOffsets, endOffsets, ensureTopics } from '../../runtime/kafka/admin.js';
import { writeTopic } from '../../runtime/kafka/topic-writer.js';
import { readMentions } from '../../lab/evaluate/index.js';
import { readModelMonitorConfig } from '../../topologies/model-monitor/config.js';
import { createModelMonitor } from '../../topologies/model-monitor/topology.js';
import { sharedBroker, uniqueName } from '../support/broker.js';
import { testRunConfig } from '../support/kafka-fixtures.js';
import type { OperatorSnapshot } from '../../core/state.js';

/** Points the per-key detectors have learnt, summed over detectors and keys (parallelDetect's snapshot). */
function detectorPoints(snapshot: OperatorSnapshot): number {
  const detectors = snapshot['detectors'] as [string, { entries: unknown[][] }][];
  return detectors.reduce((sum, [, state]) => sum + state.entries.reduce((s: number, entry) => s + (typeof entry[2] === 'number' ? entry[2] : 0), 0), 0);
}

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
      const stream = generateStream({ count, seed: 11, models: 8, incidents: 6, eventsPerSecond: 10 });
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

  it('a restart restores every stateful step: the detectors resume from their baselines instead of re-warming', async () => {
    const brokers = (await sharedBroker()).brokers;
    const registry = await startModelRegistry({ seed: 3 });
    try {
      const input = uniqueName('mm-restart-in');
      const mentionsTopic = uniqueName('mm-restart-mentions');
      const group = uniqueName('mm-restart');
      const stream = generateStream({ count: 16_000, seed: 12, models: 6, incidents: 2, eventsPerSecond: 50 });
      // Run 1 learns from 12k events, run 2 (a restart) gets 4k more: cold, it would know less than run 1.
      const events = [...stream.events];
      const [first, second] = [events.slice(0, 12_000), events.slice(12_000)];
      await ensureTopics(brokers, [{ topic: input, partitions: 4 }]);
      const config = testRunConfig(brokers, { group, topics: { input, mentions: mentionsTopic, review: `${mentionsTopic}.review`, dlq: `${mentionsTopic}.dlq` }, maxUnsettled: 100_000, partitionHighWater: 50_000, partitionIdleTimeoutMs: 2_000, allowedLatenessMs: 5_000 });
      // The sampled detectors are off by default (the sketch decides); this test restores them too.
      const monitorConfig = readModelMonitorConfig({}, { registryUrl: registry.url, detectors: ['ewma-zscore', 'cusum'] });

      await writeTopic(first, { brokers, topic: input, contract: InferenceEventContract });
      const run1 = await runTopology(createModelMonitor(monitorConfig).topology, config);
      const summary1 = await run1.done;
      expect(summary1.reason, summary1.error).to.equal('idle');
      const steps = run1.state!.statefulSteps().sort();
      expect(steps).to.deep.equal(['dedup', 'detect', 'enrich-model', 'label-join', 'partition-by-model', 'sample', 'sketch']);
      const learnt1 = detectorPoints(run1.state!.handleFor('detect').snapshot());
      expect(learnt1).to.be.greaterThan(0);
      const sketched1 = sketchRecords(run1.state!.handleFor('sketch').snapshot());
      expect(sketched1).to.equal(first.length);

      await writeTopic(second, { brokers, topic: input, contract: InferenceEventContract });
      const { topology, probe } = createModelMonitor(monitorConfig);
      const run2 = await runTopology(topology, config);
      const summary2 = await run2.done;
      expect(summary2.reason, summary2.error).to.equal('idle');
      expect(summary2.consumed, 'resumed from the committed offsets').to.equal(second.length);
      const restored = new Map(run2.state!.restored.map((r) => [r.step, r]));
      for (const step of steps) expect(restored.get(step)?.action, step).to.equal('restored');
      // What the restore applied: run 1's baselines, as they were at its last commit.
      const restoredPoints = detectorPoints(restored.get('detect')!.from!.snapshot);
      expect(restoredPoints).to.equal(learnt1);
      // Run 2 saw a quarter of the traffic; its detectors hold run 1's points and its own on top.
      const learnt2 = detectorPoints(run2.state!.handleFor('detect').snapshot());
      expect(learnt2).to.be.greaterThan(learnt1);
      // The sketch resumes from run 1's baselines too: its count goes on from run 1's.
      expect(sketchRecords(restored.get('sketch')!.from!.snapshot)).to.equal(sketched1);
      expect(sketchRecords(run2.state!.handleFor('sketch').snapshot())).to.equal(sketched1 + second.length);
      expect(probe.sampled).to.be.greaterThan(0);
      console.log(`      model-monitor restart: ${steps.length} stateful steps restored in ${run2.state!.stats.lastRestoreMs.toFixed(0)} ms; detectors resumed from ${learnt1} learnt points (now ${learnt2}); run 2 consumed ${summary2.consumed} (0 re-read)`);
    } finally {
      await registry.stop();
    }
  });
});

/** Records the change sketch had scored, from its snapshot. */
function sketchRecords(snapshot: unknown): number {
  return ((snapshot as { table: { counts: { records: number } } }).table.counts.records);
}
