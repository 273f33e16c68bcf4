/**
 * One variant's measured figures: the mention score against the ground truth, the cost from its run
 * summary, a precision/recall curve over the detector threshold (mentions whose score is below a
 * threshold are left out and the rest re-scored), its time-to-mention distribution, and, for strict
 * dedup, the share of collapsed groups that held more than one distinct sub-signal.
 */
import type { Mention } from '../../schemas/index.js';
import type { GroundTruth } from '../generator/index.js';
import { costKpis, quantile, scoreMentions, type MentionScore, type RunSummaryFile } from '../evaluate/index.js';
import type { LabelerOutcome } from '../labeler/run-labeler.js';
import type { LabVariant } from './variants.js';
import { recalibrationTrack, type RecalibrationTrack } from './recalibration-report.js';
import type { GivenLabel } from './recalibration-track.js';

/** The row of reports/lab.json: exactly these names. */
export interface LabRow {
  readonly recall: number;
  readonly precision: number;
  /** True episodes / episodes (lab/evaluate/episodes.ts), and mentions per episode. */
  readonly episode_precision: number;
  readonly mentions_per_episode: number;
  readonly mentions_per_10k: number;
  /** Mentions that match an incident, per 10k input events. */
  readonly true_mentions_per_10k: number;
  readonly mentions_per_1k_usd: number | null;
  readonly spend_usd: number;
  readonly p50_ms: number | null;
  readonly p99_ms: number | null;
  readonly lane_load_cv: number | null;
  /**
   * From the run report's `enrich_delay` (topologies/model-monitor/enrich-delay.ts; null when the run
   * did not report it): records whose dedup window closed in event time while their enrichment was
   * under way, records whose enrichment failed for good, and the mentions with either among their evidence.
   */
  readonly enrich_delayed_records: number | null;
  readonly enrich_failed_records: number | null;
  readonly enrich_affected_mentions: number | null;
  /**
   * The lab's labelers (lab/labeler): labels given per lane, and the event time from a mention's window
   * end to its label, median per lane (null: no label on that lane).
   */
  readonly labels_fast: number | null;
  readonly labels_slow: number | null;
  readonly feedback_fast_p50_ms: number | null;
  readonly feedback_slow_p50_ms: number | null;
}

export interface CurvePoint {
  readonly threshold: number;
  readonly recall: number;
  readonly precision: number;
  readonly mentions: number;
}

export interface VariantResult {
  readonly variant: LabVariant;
  readonly row: LabRow;
  readonly score: MentionScore;
  readonly summary: RunSummaryFile;
  readonly curve: readonly CurvePoint[];
  /** Time to mention, ms, one value per mention that carries its arrival time. */
  readonly latenciesMs: readonly number[];
  /** Mentions that merged more than one event, and those among them with more than one distinct sub-signal. */
  readonly collapsedGroups: number;
  readonly collapsedWithSubSignals: number;
  /** A recalibration variant's rolling figures and level factors over event time (recalibration-report.ts). */
  readonly recalibration?: RecalibrationTrack;
}

const CURVE_POINTS = 12;

export function variantResult(variant: LabVariant, mentions: readonly Mention[], truth: GroundTruth, summary: RunSummaryFile, labels?: LabelerOutcome, labelsGiven?: readonly GivenLabel[]): VariantResult {
  const score = scoreMentions(mentions, truth);
  const cost = costKpis(score, summary);
  const latenciesMs = mentions.flatMap((m) => {
    const arrived = Number(m.attributes['first_evidence_arrived_at']);
    return m.shadow || !Number.isFinite(arrived) ? [] : [Math.max(0, m.emitted_at - arrived)];
  });
  // Strict dedup says in `sub_signals` how many distinct model × segment × field × direction clusters it merged.
  const collapsed = mentions.filter((m) => !m.shadow && m.event_count > 1);
  const withSubSignals = collapsed.filter((m) => Number(m.attributes['sub_signals'] ?? 1) > 1);
  return {
    variant,
    score,
    summary,
    row: {
      recall: score.incident_recall,
      precision: score.precision,
      episode_precision: score.episode_precision,
      mentions_per_episode: score.mentions_per_episode,
      mentions_per_10k: score.mentions_per_10k,
      true_mentions_per_10k: score.true_mentions_per_10k,
      mentions_per_1k_usd: cost.mentions_per_1k_usd,
      spend_usd: cost.spend_usd,
      p50_ms: score.time_to_mention_p50_ms,
      p99_ms: score.time_to_mention_p99_ms,
      lane_load_cv: cost.lane_load_cv,
      ...enrichDelayFigures(summary.topologyReport),
      labels_fast: labels?.latency.fast.labels ?? null,
      labels_slow: labels?.latency.slow.labels ?? null,
      feedback_fast_p50_ms: labels?.latency.fast.eventTimeP50Ms ?? null,
      feedback_slow_p50_ms: labels?.latency.slow.eventTimeP50Ms ?? null,
    },
    curve: thresholdCurve(mentions, truth),
    latenciesMs,
    collapsedGroups: collapsed.length,
    collapsedWithSubSignals: withSubSignals.length,
    ...(variant.experiment === 'recalibration' ? { recalibration: recalibrationTrack(variant, mentions, truth, labelsGiven ?? [], summary) } : {}),
  };
}

/** The enrich_delay figures of a run report, null each when absent. */
export function enrichDelayFigures(report: Readonly<Record<string, unknown>> | undefined): Pick<LabRow, 'enrich_delayed_records' | 'enrich_failed_records' | 'enrich_affected_mentions'> {
  const delay = report?.['enrich_delay'] as Readonly<Record<string, unknown>> | undefined;
  const figure = (name: string): number | null => (typeof delay?.[name] === 'number' ? (delay[name] as number) : null);
  return { enrich_delayed_records: figure('delayed_past_window'), enrich_failed_records: figure('failed'), enrich_affected_mentions: figure('affected_mentions') };
}

/** Recall and precision when only mentions scoring at least each threshold are kept (thresholds at score quantiles). */
export function thresholdCurve(mentions: readonly Mention[], truth: GroundTruth): CurvePoint[] {
  const scores = mentions.filter((m) => !m.shadow).map((m) => m.score);
  if (scores.length === 0) return [];
  const thresholds = new Set<number>();
  for (let i = 0; i < CURVE_POINTS; i++) thresholds.add(quantile(scores, i / CURVE_POINTS)!);
  return [...thresholds]
    .sort((a, b) => a - b)
    .map((threshold) => {
      const kept = mentions.filter((m) => m.score >= threshold);
      const s = scoreMentions(kept, truth);
      return { threshold, recall: s.incident_recall, precision: s.precision, mentions: s.mentions };
    });
}
