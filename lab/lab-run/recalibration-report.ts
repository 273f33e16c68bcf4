/**
 * The recalibration experiment in the lab's reports: per recalibration variant its rolling precision
 * and recall and its level factors over event time (recalibration-track.ts), and per miscalibrated
 * start the time until it is on target with fast-lane labels and with slow-lane labels only, and
 * their ratio slow / fast (the study: fast feedback recalibrates 3× faster).
 */
import type { Mention } from '../../schemas/index.js';
import { readModelMonitorConfig } from '../../topologies/model-monitor/config.js';
import { recalibratorOptions, type LevelRecalibratorOptions } from '../../topologies/model-monitor/recalibration.js';
import { mentionMatchesIncident } from '../evaluate/incident-match.js';
import type { GroundTruth } from '../generator/index.js';
import type { RunSummaryFile } from '../evaluate/index.js';
import { replayLevels, rollingScores, timeToTarget, type GivenLabel, type LevelPoint, type RollingPoint } from './recalibration-track.js';
import type { LabVariant } from './variants.js';

/** Trailing window of the rolling figures, grid step, and the target (docs/lab.md). */
export const RECALIBRATION_WINDOW_MS = 6 * 3_600_000;
export const RECALIBRATION_STEP_MS = 15 * 60_000;
export const RECALIBRATION_TARGET_PRECISION = 0.95;
export const RECALIBRATION_RECALL_SLACK = 0.05;
const SLACK_MS = 60_000;

export interface RecalibrationTrack {
  /** The stream's first event time, ms: times to target are measured from it. */
  readonly startMs: number;
  readonly points: readonly RollingPoint[];
  readonly levels: readonly LevelPoint[];
  /** Event time of the first label that moved or could move a level (a sketch mention's verdict), or null. */
  readonly firstLabelMs: number | null;
  readonly labels: { readonly fast: number; readonly slow: number };
  /** The field factors at the end as model-monitor's run report has them (null when absent), to set beside the replay's. */
  readonly reportedScales: Readonly<Record<string, number>> | null;
  /**
   * Event time per wall-clock time of the variant's run (the stream's span / its elapsed time), and
   * model-monitor's feedback latency p50 of the review lane's mentions (emitted → label applied, wall
   * clock, run report): their product is how much later in event time a fast-lane label took effect
   * than its own time says. Null when unknown.
   */
  readonly speedup: number | null;
  readonly reviewLaneLatencyP50S: number | null;
}

/** The rule's settings as the variant's model-monitor reads them. */
export function recalibratorOptionsOf(env: Readonly<Record<string, string>>): LevelRecalibratorOptions {
  const config = readModelMonitorConfig({ ...env, MODEL_REGISTRY_URL: 'http://127.0.0.1:1' });
  return recalibratorOptions(config);
}

export function recalibrationTrack(variant: LabVariant, mentions: readonly Mention[], truth: GroundTruth, labels: readonly GivenLabel[], summary: Pick<RunSummaryFile, 'elapsedMs' | 'topologyReport'>): RecalibrationTrack {
  const topologyReport = summary.topologyReport;
  const live = mentions.filter((m) => !m.shadow);
  const timed = live.map((m) => ({ atMs: m.window_end, matched: truth.incidents.some((incident) => mentionMatchesIncident(m, incident, SLACK_MS)) }));
  const incidents = truth.incidents.map((incident) => ({ endMs: incident.end, found: live.some((m) => mentionMatchesIncident(m, incident, SLACK_MS)) }));
  const points = rollingScores(timed, incidents, { fromMs: truth.run.start_ms, toMs: truth.run.end_ms, stepMs: RECALIBRATION_STEP_MS, windowMs: RECALIBRATION_WINDOW_MS });
  const verdicts = labels.filter((l) => l.sketch && l.after_run !== true && l.verdict !== 'UNSURE');
  const firstLabelMs = verdicts.length === 0 ? null : Math.min(...verdicts.map((l) => l.labeled_at));
  return {
    startMs: truth.run.start_ms,
    points,
    levels: replayLevels(labels, recalibratorOptionsOf(variant.env), truth.run.start_ms),
    firstLabelMs,
    labels: { fast: labels.filter((l) => l.lane === 'fast').length, slow: labels.filter((l) => l.lane === 'slow').length },
    reportedScales: reportedScales(topologyReport),
    speedup: summary.elapsedMs > 0 ? (truth.run.end_ms - truth.run.start_ms) / summary.elapsedMs : null,
    reviewLaneLatencyP50S: reviewLaneLatency(topologyReport),
  };
}

function reviewLaneLatency(report: Readonly<Record<string, unknown>> | undefined): number | null {
  const lanes = (report?.['recalibration'] as { lanes?: Record<string, { feedback_latency_p50_s?: unknown }> } | undefined)?.lanes;
  const p50 = lanes?.['fast']?.feedback_latency_p50_s;
  return typeof p50 === 'number' ? p50 : null;
}

function reportedScales(report: Readonly<Record<string, unknown>> | undefined): Record<string, number> | null {
  const fields = (report?.['recalibration'] as { fields?: unknown } | undefined)?.fields;
  if (!Array.isArray(fields)) return null;
  const scales: Record<string, number> = {};
  for (const row of fields as Record<string, unknown>[]) {
    const scale = row['scale'] ?? row['factor'];
    if (typeof row['field'] === 'string' && typeof scale === 'number') scales[row['field']] = scale;
  }
  return scales;
}

export interface RecalibrationRow {
  readonly variant: string;
  readonly start_scale: number;
  readonly lanes: 'both' | 'slow';
  readonly labels_fast: number;
  readonly labels_slow: number;
  readonly first_label_h: number | null;
  /** Event time from the stream's start to the first on-target grid time, hours; null: never within the run. */
  readonly time_to_target_h: number | null;
  readonly on_target_before_labels: boolean;
  /** Rolling figures at the end of the run. */
  readonly final_precision: number | null;
  readonly final_recall: number | null;
  readonly final_scales: Readonly<Record<string, number>>;
  readonly reported_scales: Readonly<Record<string, number>> | null;
  /** Review-lane mentions: emitted → label applied in model-monitor, p50, as event time of this replay (hours); null when unknown. */
  readonly review_lane_applied_p50_h: number | null;
}

export interface RecalibrationSummary {
  readonly window_h: number;
  readonly step_min: number;
  readonly target_precision: number;
  readonly recall_slack: number;
  readonly reference: string | null;
  readonly rows: readonly RecalibrationRow[];
  /** Per miscalibrated start (×0.5, ×2): time to target slow-only / fast, null when either never got there. */
  readonly ratios: readonly { readonly start_scale: number; readonly fast_h: number | null; readonly slow_h: number | null; readonly slow_over_fast: number | null }[];
}

export interface TrackedVariant {
  readonly variant: LabVariant;
  readonly track: RecalibrationTrack;
}

/** The experiment's table and ratios, or undefined when the run had no recalibration variant. */
export function recalibrationSummary(tracked: readonly TrackedVariant[]): RecalibrationSummary | undefined {
  if (tracked.length === 0) return undefined;
  const startMs = tracked[0]!.track.startMs;
  const reference = tracked.find((t) => t.variant.levelScale === 1 && t.variant.labelLanes !== 'slow');
  const hours = (ms: number | null): number | null => (ms === null ? null : (ms - startMs) / 3_600_000);
  const rows = tracked.map(({ variant, track }): RecalibrationRow => {
    const target =
      reference === undefined || track.firstLabelMs === null
        ? { atMs: null, onTargetBeforeLabels: false }
        : timeToTarget(track.points, reference.track.points, { targetPrecision: RECALIBRATION_TARGET_PRECISION, recallSlack: RECALIBRATION_RECALL_SLACK, notBeforeMs: track.firstLabelMs });
    const last = track.points[track.points.length - 1];
    return {
      variant: variant.name,
      start_scale: variant.levelScale ?? 1,
      lanes: variant.labelLanes ?? 'both',
      labels_fast: track.labels.fast,
      labels_slow: track.labels.slow,
      first_label_h: hours(track.firstLabelMs),
      time_to_target_h: hours(target.atMs),
      on_target_before_labels: target.onTargetBeforeLabels,
      final_precision: last?.precision ?? null,
      final_recall: last?.recall ?? null,
      final_scales: track.levels[track.levels.length - 1]?.scales ?? {},
      reported_scales: track.reportedScales,
      review_lane_applied_p50_h: track.speedup === null || track.reviewLaneLatencyP50S === null ? null : (track.speedup * track.reviewLaneLatencyP50S * 1000) / 3_600_000,
    };
  });
  const starts = [...new Set(rows.map((r) => r.start_scale))].filter((s) => s !== 1);
  const ratios = starts.map((start) => {
    const fast = rows.find((r) => r.start_scale === start && r.lanes === 'both')?.time_to_target_h ?? null;
    const slow = rows.find((r) => r.start_scale === start && r.lanes === 'slow')?.time_to_target_h ?? null;
    return { start_scale: start, fast_h: fast, slow_h: slow, slow_over_fast: fast !== null && slow !== null && fast > 0 ? slow / fast : null };
  });
  return {
    window_h: RECALIBRATION_WINDOW_MS / 3_600_000,
    step_min: RECALIBRATION_STEP_MS / 60_000,
    target_precision: RECALIBRATION_TARGET_PRECISION,
    recall_slack: RECALIBRATION_RECALL_SLACK,
    reference: reference?.variant.name ?? null,
    rows,
    ratios,
  };
}

/** The "Recalibration" section of lab.md (empty when the run had no recalibration variant). */
export function recalibrationMarkdown(summary: RecalibrationSummary | undefined): string[] {
  if (summary === undefined) return [];
  const pct = (x: number | null): string => (x === null ? 'n/a' : `${(100 * x).toFixed(1)}%`);
  const h = (x: number | null): string => (x === null ? 'never' : `${x.toFixed(1)} h`);
  const scales = (s: Readonly<Record<string, number>> | null): string =>
    s === null
      ? 'n/a'
      : Object.entries(s)
          .map(([field, scale]) => `${field} ${scale.toFixed(2)}`)
          .join(', ');
  const lines = ['## Recalibration', ''];
  lines.push(
    `Variants started at ×0.5 and ×2 of the calibrated levels (MODEL_MONITOR_LEVEL_SCALE) learn from labels: fast + slow lane, or slow lane only (the labelers ignore mentions.review; model-monitor is the same). Rolling precision and recall over a trailing ${summary.window_h} h of event time (mentions by window end, incidents by end; every ${summary.step_min} min). On target: rolling precision ≥ ${pct(summary.target_precision)} and rolling recall within ${Math.round(100 * summary.recall_slack)} points of the reference (\`${summary.reference ?? 'none'}\`) at the same time. Time to target: event time from the stream's start to the first on-target point at or after the variant's first label. Level factors: replayed from the labels in event time with model-monitor's rule; "reported" is model-monitor's own at the end (run report). The replay runs at full speed, so a label takes effect later in event time than its own time: by model-monitor's wall-clock feedback latency × the replay's speed-up (the review-lane column).`,
    '',
  );
  lines.push('| variant | start | labels fast / slow | review-lane label applied after (p50, event time) | first label | time to target | on target before labels | final precision / recall | factors (replay) | factors (reported) |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of summary.rows) {
    lines.push(`| ${r.variant} | ×${r.start_scale} | ${r.labels_fast} / ${r.labels_slow} | ${r.review_lane_applied_p50_h === null ? 'n/a' : `${r.review_lane_applied_p50_h.toFixed(2)} h`} | ${h(r.first_label_h)} | ${h(r.time_to_target_h)} | ${r.on_target_before_labels ? 'yes' : 'no'} | ${pct(r.final_precision)} / ${pct(r.final_recall)} | ${scales(r.final_scales)} | ${scales(r.reported_scales)} |`);
  }
  lines.push('');
  lines.push('| start | time to target, fast + slow | slow only | ratio slow / fast (study: 3×) |');
  lines.push('|---|---|---|---|');
  for (const r of summary.ratios) lines.push(`| ×${r.start_scale} | ${h(r.fast_h)} | ${h(r.slow_h)} | ${r.slow_over_fast === null ? 'n/a' : `${r.slow_over_fast.toFixed(2)}×`} |`);
  lines.push('');
  return lines;
}
