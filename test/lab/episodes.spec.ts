import { expect } from 'chai';
import fc from 'fast-check';
import type { GroundTruth } from '../../lab/generator/index.js';
import { DEFAULT_EPISODE_GAP_MS, scoreMentions, splitEpisodes } from '../../lab/evaluate/index.js';
import type { Mention } from '../../schemas/index.js';

const MIN = 60_000;
let next = 0;
function mention(minute: number, overrides: Partial<Mention> = {}): Mention {
  return {
    mention_id: `m${next++}`, emitted_at: 1_000, window_start: minute * MIN, window_end: (minute + 1) * MIN, model_id: 'm1', model_version: 'v1', tenant: 't', segment: 'rare',
    field: 'latency_ms', direction: 'HIGH', detector: 'ewma-zscore', score: 1, cluster_id: 'c', event_count: 2, evidence_event_ids: [], shadow: false, attributes: {},
    ...overrides,
  };
}

const truth: GroundTruth = {
  run: { seed: 1, events: 200_000, models: 2, start_ms: 0, end_ms: 200 * MIN, events_per_second: 100, cell_window_ms: MIN, traffic_cells: 1_000, fields: ['latency_ms', 'confidence'] },
  incidents: [
    { id: 'a', kind: 'latency-shift', model_id: 'm1', segment: 'rare', field: 'latency_ms', direction: 'HIGH', start: 10 * MIN, end: 15 * MIN, magnitude: 3, affectedShare: 1, affected_events: 5, affected_ts: [10 * MIN, 11 * MIN, 12 * MIN, 13 * MIN, 14 * MIN] },
  ],
};

describe('lab: evaluate (episodes)', () => {
  it('joins consecutive windows of one key, and windows up to the gap apart; splits beyond it', () => {
    // Windows at minutes 0, 1, 3 (one window missing: 60 s of quiet), 6 (two missing: 120 s), 10 (three: 180 s).
    const episodes = splitEpisodes([mention(6), mention(0), mention(3), mention(1), mention(10)]);
    expect(DEFAULT_EPISODE_GAP_MS).to.equal(2 * MIN);
    expect(episodes.map((e) => e.mentions.map((m) => m.window_start / MIN))).to.deep.equal([[0, 1, 3, 6], [10]]);
    expect(episodes[0]).to.include({ start: 0, end: 7 * MIN, model_id: 'm1', segment: 'rare', field: 'latency_ms', direction: 'HIGH' });
  });

  it('the gap edge: exactly the gap apart is one episode, one ms more is two', () => {
    const a = mention(0);
    const atEdge = mention(0, { window_start: MIN + 30_000, window_end: 2 * MIN + 30_000 });
    const pastEdge = mention(0, { window_start: MIN + 30_001, window_end: 2 * MIN + 30_001 });
    expect(splitEpisodes([a, atEdge], 30_000)).to.have.length(1);
    expect(splitEpisodes([a, pastEdge], 30_000)).to.have.length(2);
    expect(splitEpisodes([a, mention(1)], 0)).to.have.length(1); // adjacent windows touch
    expect(() => splitEpisodes([a], -1)).to.throw(RangeError, /gapMs/);
  });

  it('keeps keys apart: another segment, field or direction is another episode, even at the same time', () => {
    const episodes = splitEpisodes([mention(0), mention(1, { segment: 'common' }), mention(1, { field: 'confidence' }), mention(1, { direction: 'LOW' }), mention(2, { model_id: 'm2' })]);
    expect(episodes).to.have.length(5);
  });

  it('an overlapping long window keeps the episode open to its own end', () => {
    const long = mention(0, { window_start: 0, window_end: 10 * MIN });
    expect(splitEpisodes([long, mention(1), mention(11)])).to.have.length(1);
  });

  it('per-episode precision: an episode is true when any of its mentions matches; a long false alarm counts once', () => {
    // A true episode (minutes 8–17: 8 and 9 precede the incident by more than the slack of 60 s but chain into it)
    // and a false one of 20 windows on another field.
    const trueRun = Array.from({ length: 10 }, (_, i) => mention(8 + i));
    const falseRun = Array.from({ length: 20 }, (_, i) => mention(100 + i, { field: 'confidence', direction: 'LOW' }));
    const score = scoreMentions([...trueRun, ...falseRun], truth);
    expect(score.mentions).to.equal(30);
    expect(score.matched_mentions).to.equal(7); // windows 9..15 overlap [9, 16) min
    expect(score.precision).to.be.closeTo(7 / 30, 1e-12);
    expect(score).to.include({ episodes: 2, true_episodes: 1, episode_precision: 0.5, mentions_per_episode: 15, mentions_per_episode_max: 20, episode_gap_ms: DEFAULT_EPISODE_GAP_MS });
    expect(score.true_mentions_per_10k).to.be.closeTo(7 * 10_000 / 200_000, 1e-12);
    expect(score.mentions_per_10k).to.be.closeTo(30 * 10_000 / 200_000, 1e-12);
    // Many short false alarms, each its own episode, weigh by their number.
    const scattered = Array.from({ length: 5 }, (_, i) => mention(100 + 10 * i, { field: 'confidence', direction: 'LOW' }));
    expect(scoreMentions([...trueRun, ...scattered], truth)).to.include({ episodes: 6, true_episodes: 1 });
    expect(scoreMentions([...trueRun, ...scattered], truth, { episodeGapMs: 20 * MIN })).to.include({ episodes: 2, true_episodes: 1 });
  });

  it('no mentions: no episodes, per-episode precision 1 like precision, shadow mentions left out', () => {
    expect(scoreMentions([], truth)).to.include({ episodes: 0, true_episodes: 0, episode_precision: 1, mentions_per_episode: 0, mentions_per_episode_max: 0, true_mentions_per_10k: 0 });
    expect(scoreMentions([mention(11, { shadow: true })], truth)).to.include({ episodes: 0 });
    expect(() => scoreMentions([], truth, { episodeGapMs: Number.NaN })).to.throw(RangeError, /episodeGapMs/);
  });

  it('property: episodes partition the mentions, each of one key, in time order, separated by more than the gap', () => {
    const arb = fc.array(fc.record({ start: fc.integer({ min: 0, max: 300 }), length: fc.integer({ min: 1, max: 5 }), segment: fc.constantFrom('a', 'b'), direction: fc.constantFrom('HIGH', 'LOW') }), { maxLength: 60 });
    fc.assert(
      fc.property(arb, fc.integer({ min: 0, max: 10 }), (specs, gapMinutes) => {
        const mentions = specs.map((s) => mention(s.start, { window_end: (s.start + s.length) * MIN, segment: s.segment, direction: s.direction }));
        const gapMs = gapMinutes * MIN;
        const episodes = splitEpisodes(mentions, gapMs);
        expect(episodes.reduce((n, e) => n + e.mentions.length, 0)).to.equal(mentions.length);
        expect(new Set(episodes.flatMap((e) => e.mentions.map((m) => m.mention_id))).size).to.equal(mentions.length);
        const byKey = new Map<string, typeof episodes>();
        for (const e of episodes) {
          for (const m of e.mentions) expect([m.segment, m.direction]).to.deep.equal([e.segment, e.direction]);
          expect(e.start).to.equal(Math.min(...e.mentions.map((m) => m.window_start)));
          expect(e.end).to.equal(Math.max(...e.mentions.map((m) => m.window_end)));
          byKey.set(`${e.segment}|${e.direction}`, [...(byKey.get(`${e.segment}|${e.direction}`) ?? []), e]);
        }
        for (const list of byKey.values()) {
          for (let i = 1; i < list.length; i++) expect(list[i]!.start - list[i - 1]!.end).to.be.greaterThan(gapMs);
        }
      }),
    );
  });
});
