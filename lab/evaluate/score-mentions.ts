/**
 * Scores mentions against the generator's ground truth.
 *
 * Matching rule: a mention matches an incident when model, segment and field agree and the mention's
 * window [window_start, window_end) overlaps the incident's [start − slack, end + slack) — the slack
 * (default 60 s, one dedup window) admits a mention whose window closes just before the incident's
 * first affected event or just after its last one. Shadow mentions are left out.
 *
 * - incident recall: incidents with at least one matching mention / incidents; also over the
 *   *observable* incidents (at least `observableMinEvents` affected events — an incident whose
 *   segment saw no traffic while it lasted cannot be found by anyone);
 * - event recall: affected events whose event time lies in the window of a matching mention / all
 *   affected events;
 * - precision: mentions that match some incident / mentions;
 * - episodes (episodes.ts): runs of mentions of one model × segment × field × direction with at most
 *   `episodeGapMs` of quiet between them; an episode is true when any of its mentions matches an
 *   incident. Per-episode precision: true episodes / episodes; mentions per episode (mean, max);
 * - false-positive rate: unmatched mentions / negative cells, where a cell is model × segment × field ×
 *   window of `cell_window_ms` with traffic (from the ground truth), minus the cells an incident covers;
 * - mention rate per 10k input events, and the true-mention rate: matched mentions per 10k input events
 *   (a topology that doubles its mentions with false alarms doubles the first, not the second);
 * - detection delay: incident start → event time of the first evidence of its first matching mention
 *   (`attributes.first_evidence_ts`, else the mention's window start), never below 0;
 * - time to mention: processing time from the first evidence record's arrival in the topology
 *   (`attributes.first_evidence_arrived_at`) to the mention's `emitted_at`, p50/p99. On a replay event
 *   time and processing time are unrelated, so this is the latency that a live stream would add.
 */
import type { Mention } from '../../schemas/index.js';
import { mentionMatchesIncident } from './incident-match.js';
import type { GroundTruth } from '../generator/index.js';
import { DEFAULT_EPISODE_GAP_MS, splitEpisodes } from './episodes.js';

export interface ScoreOptions {
  /** Slack around an incident, ms, ≥ 0. Default 60 000. */
  readonly slackMs?: number;
  /** Affected events for an incident to count as observable. Default 5. */
  readonly observableMinEvents?: number;
  /** Largest quiet stretch inside one episode, ms, ≥ 0. Default 120 000 (one dedup window + the slack). */
  readonly episodeGapMs?: number;
}

export interface IncidentScore {
  readonly id: string;
  readonly kind: string;
  readonly model_id: string;
  readonly segment: string;
  readonly field: string;
  readonly affected_events: number;
  readonly matched_mentions: number;
  readonly detected: boolean;
  readonly delay_ms: number | null;
}

export interface MentionScore {
  readonly events: number;
  readonly mentions: number;
  readonly matched_mentions: number;
  readonly false_positives: number;
  readonly incidents: number;
  readonly incidents_detected: number;
  readonly incident_recall: number;
  readonly observable_incidents: number;
  readonly observable_detected: number;
  readonly observable_recall: number;
  readonly affected_events: number;
  readonly affected_events_covered: number;
  readonly event_recall: number;
  readonly precision: number;
  readonly false_positive_rate: number;
  readonly negative_cells: number;
  readonly mentions_per_10k: number;
  /** Matched mentions per 10k input events. */
  readonly true_mentions_per_10k: number;
  readonly episodes: number;
  readonly true_episodes: number;
  /** True episodes / episodes (1 when there are none, like precision). */
  readonly episode_precision: number;
  /** Mentions per episode: mean (0 when there are none) and max. */
  readonly mentions_per_episode: number;
  readonly mentions_per_episode_max: number;
  readonly episode_gap_ms: number;
  readonly detection_delay_p50_ms: number | null;
  readonly detection_delay_max_ms: number | null;
  readonly time_to_mention_p50_ms: number | null;
  readonly time_to_mention_p99_ms: number | null;
  readonly slack_ms: number;
  readonly per_incident: readonly IncidentScore[];
}

/** The q-quantile (nearest rank) of `values`, or null when empty. */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function scoreMentions(allMentions: readonly Mention[], truth: GroundTruth, options: ScoreOptions = {}): MentionScore {
  const slackMs = options.slackMs ?? 60_000;
  if (!(slackMs >= 0)) throw new RangeError(`scoreMentions: slackMs must be ≥ 0, got ${slackMs}`);
  const observableMinEvents = options.observableMinEvents ?? 5;
  const episodeGapMs = options.episodeGapMs ?? DEFAULT_EPISODE_GAP_MS;
  if (!(episodeGapMs >= 0) || !Number.isFinite(episodeGapMs)) throw new RangeError(`scoreMentions: episodeGapMs must be a finite number ≥ 0, got ${episodeGapMs}`);
  const mentions = allMentions.filter((m) => !m.shadow);
  // The labelers decide with the same rule, so a label and a score never disagree.
  const matches = (m: Mention, i: GroundTruth['incidents'][number]): boolean => mentionMatchesIncident(m, i, slackMs);

  const matched = new Set<Mention>();
  let affected = 0;
  let covered = 0;
  const perIncident: IncidentScore[] = truth.incidents.map((incident) => {
    const hits = mentions.filter((m) => matches(m, incident));
    for (const m of hits) matched.add(m);
    affected += incident.affected_ts.length;
    covered += incident.affected_ts.filter((ts) => hits.some((m) => ts >= m.window_start && ts < m.window_end)).length;
    const detectedAt = hits.map((m) => Number(m.attributes['first_evidence_ts'] ?? m.window_start)).filter(Number.isFinite);
    return {
      id: incident.id,
      kind: incident.kind,
      model_id: incident.model_id,
      segment: incident.segment,
      field: incident.field,
      affected_events: incident.affected_events,
      matched_mentions: hits.length,
      detected: hits.length > 0,
      delay_ms: detectedAt.length === 0 ? null : Math.max(0, Math.min(...detectedAt) - incident.start),
    };
  });
  const detected = perIncident.filter((i) => i.detected).length;
  const observable = perIncident.filter((i) => i.affected_events >= observableMinEvents);
  const falsePositives = mentions.length - matched.size;
  const incidentCells = truth.incidents.reduce((n, i) => n + Math.ceil((i.end - i.start + 2 * slackMs) / truth.run.cell_window_ms), 0);
  const negativeCells = Math.max(1, truth.run.traffic_cells * truth.run.fields.length - incidentCells);
  const delays = perIncident.flatMap((i) => (i.delay_ms === null ? [] : [i.delay_ms]));
  const latencies = mentions.flatMap((m) => {
    const arrived = Number(m.attributes['first_evidence_arrived_at']);
    return Number.isFinite(arrived) ? [Math.max(0, m.emitted_at - arrived)] : [];
  });
  const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);
  const episodes = splitEpisodes(mentions, episodeGapMs);
  const trueEpisodes = episodes.filter((e) => e.mentions.some((m) => matched.has(m))).length;
  return {
    events: truth.run.events,
    mentions: mentions.length,
    matched_mentions: matched.size,
    false_positives: falsePositives,
    incidents: perIncident.length,
    incidents_detected: detected,
    incident_recall: ratio(detected, perIncident.length),
    observable_incidents: observable.length,
    observable_detected: observable.filter((i) => i.detected).length,
    observable_recall: ratio(observable.filter((i) => i.detected).length, observable.length),
    affected_events: affected,
    affected_events_covered: covered,
    event_recall: ratio(covered, affected),
    precision: mentions.length === 0 ? 1 : ratio(matched.size, mentions.length),
    false_positive_rate: ratio(falsePositives, negativeCells),
    negative_cells: negativeCells,
    mentions_per_10k: ratio(mentions.length * 10_000, truth.run.events),
    true_mentions_per_10k: ratio(matched.size * 10_000, truth.run.events),
    episodes: episodes.length,
    true_episodes: trueEpisodes,
    episode_precision: episodes.length === 0 ? 1 : trueEpisodes / episodes.length,
    mentions_per_episode: ratio(mentions.length, episodes.length),
    mentions_per_episode_max: episodes.reduce((n, e) => Math.max(n, e.mentions.length), 0),
    episode_gap_ms: episodeGapMs,
    detection_delay_p50_ms: quantile(delays, 0.5),
    detection_delay_max_ms: delays.length === 0 ? null : Math.max(...delays),
    time_to_mention_p50_ms: quantile(latencies, 0.5),
    time_to_mention_p99_ms: quantile(latencies, 0.99),
    slack_ms: slackMs,
    per_incident: perIncident,
  };
}

/** The KPIs as aligned text lines. */
export function formatScore(score: MentionScore): string[] {
  const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;
  const ms = (x: number | null): string => (x === null ? 'n/a' : x >= 10_000 ? `${(x / 1000).toFixed(0)} s` : `${Math.round(x)} ms`);
  return [
    `  incident recall        ${pct(score.incident_recall)} (${score.incidents_detected} of ${score.incidents}); observable (≥ 5 affected events): ${pct(score.observable_recall)} (${score.observable_detected} of ${score.observable_incidents})`,
    `  event recall           ${pct(score.event_recall)} (${score.affected_events_covered} of ${score.affected_events} affected events in a matching mention's window)`,
    `  precision              ${pct(score.precision)} (${score.matched_mentions} of ${score.mentions} mentions match an incident, slack ${score.slack_ms / 1000} s)`,
    `  false-positive rate    ${(100 * score.false_positive_rate).toFixed(3)} % (${score.false_positives} unmatched mentions / ${score.negative_cells.toLocaleString('en')} negative model×segment×field×window cells)`,
    `  per episode            precision ${pct(score.episode_precision)} (${score.true_episodes} of ${score.episodes} episodes hold a matching mention; an episode: one model × segment × field × direction, gaps ≤ ${score.episode_gap_ms / 1000} s), ${score.mentions_per_episode.toFixed(1)} mentions per episode (max ${score.mentions_per_episode_max})`,
    `  mention rate           ${score.mentions_per_10k.toFixed(2)} per 10k events (${score.mentions} mentions, ${score.events.toLocaleString('en')} events); true mentions ${score.true_mentions_per_10k.toFixed(2)} per 10k`,
    `  detection delay        p50 ${ms(score.detection_delay_p50_ms)}, max ${ms(score.detection_delay_max_ms)} (event time, incident start → first evidence of the first matching mention)`,
    `  time to mention        p50 ${ms(score.time_to_mention_p50_ms)}, p99 ${ms(score.time_to_mention_p99_ms)} (processing time, first evidence in → mention out)`,
  ];
}
