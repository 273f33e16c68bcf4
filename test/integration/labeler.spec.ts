/**
 * The lab's labeler against the real broker: mentions on the fast and slow lanes become Label records
 * on `labels`, with the ground truth's verdict, the fast lane labelled within minutes of event time and
 * the slow lane only in its batch (here: at the end, with --flush), each mention once.
 */
import { expect } from 'chai';
import { runLabeler } from '../../lab/labeler/run-labeler.js';
import type { GroundTruth } from '../../lab/generator/index.js';
import { ensureTopics } from '../../runtime/kafka/admin.js';
import { readAll } from '../../runtime/kafka/topic-reader.js';
import { writeTopic } from '../../runtime/kafka/topic-writer.js';
import { createTopicSerde } from '../../runtime/serde/index.js';
import { LabelContract, MentionContract, type Label, type Mention } from '../../schemas/index.js';
import { sharedBroker, uniqueName } from '../support/broker.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

const truth: GroundTruth = {
  run: { seed: 1, events: 10_000, models: 1, start_ms: 0, end_ms: 10 * HOUR, events_per_second: 1, cell_window_ms: MIN, traffic_cells: 100, fields: ['latency_ms'] },
  incidents: [{ id: 'i1', kind: 'latency-shift', model_id: 'm1', segment: 'rare', field: 'latency_ms', direction: 'HIGH', start: HOUR, end: 2 * HOUR, magnitude: 2, affectedShare: 1, affected_events: 50, affected_ts: [] }],
};

function mention(id: string, segment: string, windowStartMs: number): Mention {
  return {
    mention_id: id, emitted_at: 1, window_start: windowStartMs, window_end: windowStartMs + MIN, model_id: 'm1', model_version: 'v1', tenant: 't', segment,
    field: 'latency_ms', direction: 'HIGH', detector: 'sketch-cusum', score: 1, cluster_id: 'c', event_count: 3, evidence_event_ids: [], shadow: false, attributes: {},
  };
}

describe('integration: the lab labeler (signalpath label)', function () {
  this.timeout(120_000);

  it('labels both lanes from the ground truth, each mention once, the fast lane in minutes of event time', async () => {
    const { brokers } = await sharedBroker();
    const topics = { fast: uniqueName('review'), slow: uniqueName('mentions'), labels: uniqueName('labels') };
    // Slow lane: every mention; fast lane: copies of two of them (as the review lane makes).
    const slow = [mention('tp-1', 'rare', HOUR + 5 * MIN), mention('fp-1', 'common', HOUR + 5 * MIN), mention('tp-2', 'rare', HOUR + 30 * MIN), mention('fp-2', 'common', 3 * HOUR), mention('late', 'common', 5 * HOUR)];
    const fast = [slow[0]!, slow[1]!];
    await ensureTopics(brokers, [topics.fast, topics.slow].map((topic) => ({ topic, partitions: 2 })));
    await writeTopic(slow, { brokers, topic: topics.slow, contract: MentionContract });
    await writeTopic(fast, { brokers, topic: topics.fast, contract: MentionContract });

    const outcome = await runLabeler({
      brokers,
      truth,
      topics,
      desk: { unsureShare: 0, wrongShare: 0, capacityPerHour: Infinity, fastDelayMs: [2 * MIN, 10 * MIN], slowBatchEveryMs: [24 * HOUR, 48 * HOUR] },
      untilIdleMs: 3_000,
      flushAtEnd: true,
      log: () => {},
    });

    const serde = createTopicSerde({ contract: LabelContract, topic: topics.labels });
    const labels: Label[] = (await readAll(brokers, topics.labels)).map((message) => {
      const headers: Record<string, Buffer> = {};
      for (const header of message.headers ?? []) for (const [name, value] of Object.entries(header)) headers[name] = value as Buffer;
      return serde.decode(message.value!, headers);
    });
    expect(outcome.labelsWritten).to.equal(5);
    expect(labels.map((l) => l.mention_id).sort()).to.deep.equal(['fp-1', 'fp-2', 'late', 'tp-1', 'tp-2']);
    const byId = new Map(labels.map((l) => [l.mention_id, l]));
    expect(Object.fromEntries(labels.map((l) => [l.mention_id, l.verdict]))).to.deep.equal({ 'tp-1': 'TRUE_POSITIVE', 'fp-1': 'FALSE_POSITIVE', 'tp-2': 'TRUE_POSITIVE', 'fp-2': 'FALSE_POSITIVE', late: 'FALSE_POSITIVE' });
    // The fast-lane copies were labelled by the fast lane, 2–10 min of event time after their window.
    for (const id of ['tp-1', 'fp-1']) {
      const label = byId.get(id)!;
      expect(label.labeler).to.equal('lab-labeler/fast');
      expect(label.labeled_at - (HOUR + 6 * MIN)).to.be.within(2 * MIN, 10 * MIN);
    }
    // No slow batch was due within 5 h of event time: the slow lane was labelled by the final flush.
    for (const id of ['tp-2', 'fp-2', 'late']) expect(byId.get(id)!.labeler).to.equal('lab-labeler/slow');
    expect(outcome.counts.duplicates).to.equal(2);
    expect(outcome.undecodable).to.equal(0);
  });

  it('with the slow lane only (the lab\'s slow-only recalibration variants), the fast-lane copies are labelled in the slow batch, never by the fast lane', async () => {
    const { brokers } = await sharedBroker();
    const topics = { fast: uniqueName('review'), slow: uniqueName('mentions'), labels: uniqueName('labels') };
    const slow = [mention('tp-1', 'rare', HOUR + 5 * MIN), mention('fp-1', 'common', HOUR + 5 * MIN), mention('late', 'common', 5 * HOUR)];
    await ensureTopics(brokers, [topics.fast, topics.slow].map((topic) => ({ topic, partitions: 2 })));
    await writeTopic(slow, { brokers, topic: topics.slow, contract: MentionContract });
    await writeTopic([slow[0]!, slow[1]!], { brokers, topic: topics.fast, contract: MentionContract });
    const given: { id: string; lane: string }[] = [];
    const outcome = await runLabeler({
      brokers,
      truth,
      topics,
      lanes: ['slow'],
      onLabel: (label, _mention, lane) => given.push({ id: label.mention_id, lane }),
      desk: { unsureShare: 0, wrongShare: 0, capacityPerHour: Infinity },
      untilIdleMs: 3_000,
      flushAtEnd: true,
      log: () => {},
    });
    expect(outcome.labelsWritten).to.equal(3);
    expect(outcome.counts.labelled).to.deep.equal({ fast: 0, slow: 3 });
    expect(outcome.counts.offered.fast).to.equal(0);
    expect(given.map((g) => g.lane)).to.deep.equal(['slow', 'slow', 'slow']);
    expect(given.map((g) => g.id).sort()).to.deep.equal(['fp-1', 'late', 'tp-1']);
  });
});
