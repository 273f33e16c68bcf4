/**
 * Shadow detectors on the real broker: model-monitor with MODEL_MONITOR_SHADOW_DETECTORS writes
 * shadow mentions to mentions.shadow only; the labeler labels a share of them on its shadow lane;
 * `signalpath shadow-report` reads the three topics and writes its verdict.
 */
import { expect } from 'chai';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { shadowReportCommand } from '../../cli/shadow-report-command.js';
import { generateStream } from '../../lab/generator/index.js';
import { readMentions } from '../../lab/evaluate/index.js';
import { runLabeler } from '../../lab/labeler/run-labeler.js';
import { readLabels } from '../../lab/shadow-report/read-shadow-run.js';
import { ensureTopics } from '../../runtime/kafka/admin.js';
import { writeTopic } from '../../runtime/kafka/topic-writer.js';
import { runTopology } from '../../runtime/runner.js';
import { InferenceEventContract } from '../../schemas/index.js';
import { readModelMonitorConfig } from '../../topologies/model-monitor/config.js';
import { createModelMonitor } from '../../topologies/model-monitor/topology.js';
import { sharedBroker, uniqueName } from '../support/broker.js';
import { testRunConfig } from '../support/kafka-fixtures.js';

describe('integration: shadow detectors, their labels and the shadow report', function () {
  this.timeout(120_000);

  it('shadow mentions reach mentions.shadow only; a share is labelled; shadow-report judges them', async () => {
    const brokers = (await sharedBroker()).brokers;
    const input = uniqueName('shadow-in');
    const mentionsTopic = uniqueName('shadow-mentions');
    const labelsTopic = uniqueName('shadow-labels');
    const stream = generateStream({ count: 30_000, seed: 11, models: 8, incidents: 6, eventsPerSecond: 10 });
    await ensureTopics(brokers, [{ topic: input, partitions: 4 }]);
    await writeTopic(stream.events, { brokers, topic: input, contract: InferenceEventContract });
    const topics = { input, mentions: mentionsTopic, review: `${mentionsTopic}.review`, shadow: `${mentionsTopic}.shadow`, dlq: `${mentionsTopic}.dlq` };
    const built = createModelMonitor(readModelMonitorConfig({ MODEL_MONITOR_SHADOW_DETECTORS: 'sketch-cusum@scale=0.5' }, { labelsTopic }));
    const run = await runTopology(built.topology, testRunConfig(brokers, { group: uniqueName('shadow'), topics, maxUnsettled: 100_000, partitionHighWater: 50_000, partitionIdleTimeoutMs: 2_000, allowedLatenessMs: 5_000 }));
    expect((await run.done).reason).to.equal('idle');

    const live = await readMentions(brokers, mentionsTopic);
    const review = await readMentions(brokers, topics.review);
    const shadow = await readMentions(brokers, topics.shadow);
    expect(live.length).to.be.greaterThan(0);
    expect([...live, ...review].some((m) => m.shadow || m.mention_id.startsWith('shadow:'))).to.equal(false);
    expect(shadow.length).to.be.greaterThan(0);
    expect(shadow.every((m) => m.shadow && m.mention_id.startsWith('shadow:sketch-cusum@scale=0.5:') && m.attributes['shadow_detector'] === 'sketch-cusum@scale=0.5')).to.equal(true);
    expect(built.probe.shadow()['sketch-cusum@scale=0.5']!.mentions).to.equal(shadow.length);

    const outcome = await runLabeler({
      brokers,
      truth: stream.truth(),
      topics: { fast: topics.review, slow: mentionsTopic, labels: labelsTopic, shadow: topics.shadow },
      desk: { unsureShare: 0, wrongShare: 0, capacityPerHour: Infinity, shadowShare: 0.5 },
      untilIdleMs: 2_000,
      flushAtEnd: true,
      log: () => {},
    });
    expect(outcome.shadow!.offered).to.equal(shadow.length);
    expect(outcome.shadow!.labelled).to.equal(outcome.shadow!.sampled).and.to.be.greaterThan(0);
    const labels = await readLabels(brokers, labelsTopic);
    expect(labels.filter((l) => l.labeler === 'lab-labeler/shadow').length).to.equal(outcome.shadow!.labelled);
    expect(labels.length).to.equal(live.length + outcome.shadow!.labelled);

    const reports = await mkdtemp(path.join(os.tmpdir(), 'shadow-report-'));
    const lines: string[] = [];
    const report = await shadowReportCommand(
      { topic: mentionsTopic, shadowTopic: topics.shadow, labelsTopic, slack: '60000', target: '0.95', minLabels: '10', confidence: '0.95', reports, brokers },
      (line) => lines.push(line),
    );
    const c = report.comparisons[0]!;
    expect(c.shadow).to.equal('sketch-cusum@scale=0.5');
    expect(c.live.mentions).to.equal(live.length);
    expect(c.shadowSide.mentions).to.equal(shadow.length);
    expect(c.shadowSide.labelled + c.shadowSide.unsure).to.equal(outcome.shadow!.labelled);
    expect(['promote', 'hold', 'regression']).to.include(c.verdict);
    const json = JSON.parse(await readFile(path.join(reports, 'shadow-report.json'), 'utf8')) as typeof report;
    expect(json.comparisons[0]!.verdict).to.equal(c.verdict);
    expect(await readFile(path.join(reports, 'shadow-report.md'), 'utf8')).to.match(/## sketch-cusum@scale=0\.5: \*\*(promote|hold|regression)\*\*/);
    expect(lines.join('\n')).to.match(/# Shadow report/);
  });
});
