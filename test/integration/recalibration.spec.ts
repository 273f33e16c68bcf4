/**
 * The feedback loop on the real broker: model-monitor's mentions, the lab labeler's labels on
 * `labels`, and a restarted model-monitor that joins them to the mentions its changelog kept waiting
 * and moves the sketch's levels — each mention's label once, though the labeler ran twice.
 */
import { expect } from 'chai';
import { generateStream } from '../../lab/generator/index.js';
import { readMentions } from '../../lab/evaluate/index.js';
import { runLabeler } from '../../lab/labeler/run-labeler.js';
import { ensureTopics } from '../../runtime/kafka/admin.js';
import { writeTopic } from '../../runtime/kafka/topic-writer.js';
import { runTopology } from '../../runtime/runner.js';
import { InferenceEventContract } from '../../schemas/index.js';
import { readModelMonitorConfig } from '../../topologies/model-monitor/config.js';
import { modelMonitorReport } from '../../topologies/model-monitor/run-report.js';
import { createModelMonitor } from '../../topologies/model-monitor/topology.js';
import { sharedBroker, uniqueName } from '../support/broker.js';
import { testRunConfig } from '../support/kafka-fixtures.js';

describe('integration: model-monitor recalibrates from the labeler’s labels', function () {
  this.timeout(120_000);

  it('a restart keeps the mentions awaiting labels; the labels (written twice) are applied once each and move the levels', async () => {
    const brokers = (await sharedBroker()).brokers;
    const input = uniqueName('recal-in');
    const mentionsTopic = uniqueName('recal-mentions');
    const labelsTopic = uniqueName('recal-labels');
    const group = uniqueName('recal');
    const stream = generateStream({ count: 30_000, seed: 11, models: 8, incidents: 6, eventsPerSecond: 10 });
    await ensureTopics(brokers, [{ topic: input, partitions: 4 }]);
    await writeTopic(stream.events, { brokers, topic: input, contract: InferenceEventContract });
    const topics = { input, mentions: mentionsTopic, review: `${mentionsTopic}.review`, dlq: `${mentionsTopic}.dlq` };
    const monitorConfig = readModelMonitorConfig({}, { labelsTopic });

    // Run 1: mentions, each waiting for its label in the label-join step's state.
    const first = createModelMonitor(monitorConfig);
    const run1 = await runTopology(first.topology, testRunConfig(brokers, { group, topics, maxUnsettled: 100_000, partitionHighWater: 50_000, partitionIdleTimeoutMs: 2_000, allowedLatenessMs: 5_000 }));
    expect((await run1.done).reason).to.equal('idle');
    const mentions = await readMentions(brokers, mentionsTopic);
    expect(mentions.length).to.be.greaterThan(0);
    expect(first.probe.labelJoin.awaiting).to.equal(mentions.length);

    // The labeler, twice (a restarted labeler labels again, with the same verdicts): a third of the
    // verdicts wrong on purpose, so that false positives come back too.
    const labeler = () =>
      runLabeler({
        brokers,
        truth: stream.truth(),
        topics: { fast: topics.review, slow: mentionsTopic, labels: labelsTopic },
        desk: { unsureShare: 0.1, wrongShare: 0.3, capacityPerHour: Infinity, seed: 5 },
        untilIdleMs: 2_000,
        flushAtEnd: true,
        log: () => {},
      });
    const labelled = await labeler();
    expect(labelled.labelsWritten).to.equal(mentions.length);
    expect((await labeler()).labelsWritten).to.equal(mentions.length);
    const { TRUE_POSITIVE: tp, FALSE_POSITIVE: fp, UNSURE: unsure } = labelled.counts.verdicts;
    expect(fp).to.be.greaterThan(0);

    // Run 2: nothing new to read; the follower reads both copies of every label from the beginning.
    const second = createModelMonitor(monitorConfig);
    const run2 = await runTopology(second.topology, testRunConfig(brokers, { group, topics, untilIdleMs: 100_000, partitionIdleTimeoutMs: 2_000, allowedLatenessMs: 5_000 }));
    const join = second.probe.labelJoin;
    // Labels that come before the restore are held (early) and joined by it: count only what was decided.
    const seen = (): number => join.counts.truePositives + join.counts.falsePositives + join.counts.unsure + join.counts.duplicates + join.counts.relabels;
    while (seen() < 2 * mentions.length) await new Promise((resolve) => setTimeout(resolve, 100));
    await run2.stop();
    expect(run2.state!.restored.find((r) => r.step === 'label-join')?.action).to.equal('restored');
    expect(join.counts).to.include({ truePositives: tp, falsePositives: fp, unsure: 2 * unsure, duplicates: tp + fp, relabels: 0, early: 0 });
    expect(join.awaiting, 'the UNSURE ones still wait for a verdict').to.equal(unsure);

    // The levels: a field without a false positive stays at the budget's level, none below it; the
    // first false positive a field gets before ten true ones raises it (the prior is 10 labels at 95 %).
    const report = modelMonitorReport(second.probe)['recalibration'] as { fields: { field: string; scale: number; true_positives: number; false_positives: number }[] };
    expect(report.fields.reduce((sum, f) => sum + f.false_positives, 0)).to.equal(fp);
    for (const f of report.fields) {
      expect(f.scale, f.field).to.be.at.least(1);
      if (f.false_positives === 0) expect(f.scale, f.field).to.equal(1);
      if (f.true_positives < 10 && f.false_positives > 0) expect(f.scale, f.field).to.be.greaterThan(1);
    }
    console.log(`      recalibration: ${mentions.length} mentions, labels ${tp} TP / ${fp} FP / ${unsure} UNSURE (twice); factors ${report.fields.filter((f) => f.scale !== 1).map((f) => `${f.field} ×${f.scale.toFixed(3)}`).join(', ') || 'none moved'}`);
  });
});
