import { expect } from 'chai';
import type { GroundTruth } from '../../lab/generator/index.js';
import { quantile, scoreMentions } from '../../lab/evaluate/index.js';
import type { Mention } from '../../schemas/index.js';

const MIN = 60_000;
const truth: GroundTruth = {
  run: { seed: 1, events: 100_000, models: 2, start_ms: 0, end_ms: 100 * MIN, events_per_second: 100, cell_window_ms: MIN, traffic_cells: 1_000, fields: ['latency_ms', 'confidence'] },
  incidents: [
    { id: 'a', kind: 'latency-shift', model_id: 'm1', segment: 'rare', field: 'latency_ms', direction: 'HIGH', start: 10 * MIN, end: 15 * MIN, magnitude: 3, affectedShare: 1, affected_events: 4, affected_ts: [10 * MIN, 11 * MIN + 1, 12 * MIN + 1, 14 * MIN + 1] },
    { id: 'b', kind: 'confidence-drop', model_id: 'm2', segment: 'common', field: 'confidence', direction: 'LOW', start: 50 * MIN, end: 52 * MIN, magnitude: 0.3, affectedShare: 1, affected_events: 10, affected_ts: Array.from({ length: 10 }, (_, i) => 50 * MIN + i * 1000) },
  ],
};

function mention(overrides: Partial<Mention>): Mention {
  return {
    mention_id: `x${Math.random()}`, emitted_at: 1_000, window_start: 0, window_end: MIN, model_id: 'm1', model_version: 'v1', tenant: 't', segment: 'rare',
    field: 'latency_ms', direction: 'HIGH', detector: 'ewma-zscore', score: 1, cluster_id: 'c', event_count: 2, evidence_event_ids: [], shadow: false, attributes: {},
    ...overrides,
  };
}

describe('lab: evaluate (matching mentions to incidents)', () => {
  it('a hit: model, segment and field agree and the window overlaps', () => {
    const score = scoreMentions([mention({ window_start: 11 * MIN, window_end: 12 * MIN, attributes: { first_evidence_ts: String(11 * MIN + 1) } })], truth);
    expect(score).to.include({ incidents_detected: 1, matched_mentions: 1, false_positives: 0, precision: 1, incident_recall: 0.5, event_recall: 1 / 14 });
    expect(score.detection_delay_p50_ms).to.equal(MIN + 1);
    expect(score.per_incident[0]!.detected).to.equal(true);
  });

  it('a miss: no mention at all, or one for another segment', () => {
    expect(scoreMentions([], truth)).to.include({ incidents_detected: 0, precision: 1, mentions: 0, mentions_per_10k: 0 });
    const score = scoreMentions([mention({ segment: 'common', window_start: 11 * MIN, window_end: 12 * MIN })], truth);
    expect(score).to.include({ incidents_detected: 0, false_positives: 1, precision: 0 });
  });

  it('the wrong field does not match', () => {
    const score = scoreMentions([mention({ field: 'confidence', window_start: 11 * MIN, window_end: 12 * MIN })], truth);
    expect(score).to.include({ incidents_detected: 0, false_positives: 1 });
  });

  it('a late window matches within the slack and not beyond it', () => {
    const justAfter = mention({ window_start: 15 * MIN + 30_000, window_end: 16 * MIN });
    expect(scoreMentions([justAfter], truth, { slackMs: MIN })).to.include({ incidents_detected: 1 });
    expect(scoreMentions([justAfter], truth, { slackMs: 0 })).to.include({ incidents_detected: 0, false_positives: 1 });
    const late = mention({ window_start: 30 * MIN, window_end: 31 * MIN });
    expect(scoreMentions([late], truth)).to.include({ incidents_detected: 0, false_positives: 1 });
  });

  it('two mentions for one incident: one incident detected, both mentions true, delay from the earliest', () => {
    const score = scoreMentions(
      [mention({ window_start: 13 * MIN, window_end: 14 * MIN }), mention({ window_start: 10 * MIN, window_end: 11 * MIN })],
      truth,
    );
    expect(score).to.include({ incidents_detected: 1, matched_mentions: 2, false_positives: 0, precision: 1 });
    expect(score.detection_delay_p50_ms).to.equal(0);
    expect(score.per_incident[0]!.matched_mentions).to.equal(2);
    expect(score.event_recall).to.equal(1 / 14); // 10:00 and 13:00–14:00 windows hold 1 affected event
  });

  it('reports observable recall, shadow mentions left out, rate per 10k and time to mention', () => {
    const score = scoreMentions(
      [
        mention({ model_id: 'm2', segment: 'common', field: 'confidence', window_start: 50 * MIN, window_end: 51 * MIN, emitted_at: 5_000, attributes: { first_evidence_arrived_at: '4000' } }),
        mention({ shadow: true, window_start: 11 * MIN, window_end: 12 * MIN }),
      ],
      truth,
    );
    expect(score).to.include({ mentions: 1, observable_incidents: 1, observable_detected: 1, observable_recall: 1, mentions_per_10k: 0.1, time_to_mention_p50_ms: 1000 });
    expect(score.event_recall).to.equal(10 / 14);
    expect(quantile([5, 1, 3, 2, 4], 0.5)).to.equal(3);
  });
});
