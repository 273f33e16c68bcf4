/**
 * The recalibration experiment's measures, in event time (docs/lab.md, "Recalibration"): rolling
 * precision and recall of a variant's mentions, the level factors its labels moved, and the time
 * until a miscalibrated variant is on target. Plain functions, no broker: the lab computes them from
 * the mentions it read and the labels its labelers gave.
 *
 * - **Rolling precision** at t: matched mentions / mentions among those whose window ended in
 *   (t − window, t]; null below `minMentions`.
 * - **Rolling recall** at t: found incidents / incidents among those that ended in (t − window, t]
 *   (found: any mention of the whole run matches it, the evaluator's rule); null below `minIncidents`.
 * - **On target** at t: rolling precision ≥ the target and rolling recall ≥ the reference's (the
 *   calibrated run's) at the same t minus the slack.
 * - **Time to target**: the first grid time, not before the first label, that is on target, measured
 *   from the stream's start. Before any label nothing has recalibrated, so a variant that happens to
 *   be on target then is counted from its first label (and flagged `onTargetBeforeLabels`).
 */
import { LevelRecalibrator, type LevelRecalibratorOptions } from '../../topologies/model-monitor/recalibration.js';

export interface TimedMention {
  /** Event time the mention's window ended, ms. */
  readonly atMs: number;
  /** Whether it matches an incident. */
  readonly matched: boolean;
}

export interface TimedIncident {
  /** Event time the incident ended, ms. */
  readonly endMs: number;
  /** Whether any mention matches it. */
  readonly found: boolean;
}

export interface RollingOptions {
  /** First and last event time of the stream, ms; the grid runs from `fromMs + stepMs` to `toMs`. */
  readonly fromMs: number;
  readonly toMs: number;
  /** Grid step, ms > 0. */
  readonly stepMs: number;
  /** Trailing window, ms > 0. */
  readonly windowMs: number;
  /** Mentions a window needs for a precision, ≥ 1. Default 10. */
  readonly minMentions?: number;
  /** Incidents a window needs for a recall, ≥ 1. Default 3. */
  readonly minIncidents?: number;
}

export interface RollingPoint {
  readonly atMs: number;
  readonly precision: number | null;
  readonly recall: number | null;
  readonly mentions: number;
  readonly incidents: number;
}

/** The grid times of `options`: fromMs + stepMs, fromMs + 2·stepMs, …, up to and including toMs. */
export function gridTimes(options: Pick<RollingOptions, 'fromMs' | 'toMs' | 'stepMs'>): number[] {
  if (!(options.stepMs > 0)) throw new RangeError(`rolling: stepMs must be > 0, got ${options.stepMs}`);
  if (!(options.toMs >= options.fromMs)) throw new RangeError(`rolling: toMs (${options.toMs}) must be ≥ fromMs (${options.fromMs})`);
  const times: number[] = [];
  for (let t = options.fromMs + options.stepMs; t < options.toMs; t += options.stepMs) times.push(t);
  times.push(options.toMs);
  return times;
}

/** Rolling precision and recall over the grid (trailing windows of `windowMs`). */
export function rollingScores(mentions: readonly TimedMention[], incidents: readonly TimedIncident[], options: RollingOptions): RollingPoint[] {
  if (!(options.windowMs > 0)) throw new RangeError(`rolling: windowMs must be > 0, got ${options.windowMs}`);
  const minMentions = options.minMentions ?? 10;
  const minIncidents = options.minIncidents ?? 3;
  if (!(minMentions >= 1 && minIncidents >= 1)) throw new RangeError('rolling: minMentions and minIncidents must be ≥ 1');
  const byTime = [...mentions].sort((a, b) => a.atMs - b.atMs);
  const incidentsByEnd = [...incidents].sort((a, b) => a.endMs - b.endMs);
  // Two pointers per series: the window (t − windowMs, t] slides forward with t.
  const slide = <T>(items: readonly T[], timeOf: (item: T) => number, good: (item: T) => boolean) => {
    let head = 0;
    let tail = 0;
    let count = 0;
    let goodCount = 0;
    return (t: number): { count: number; good: number } => {
      for (; head < items.length && timeOf(items[head]!) <= t; head++) {
        count++;
        if (good(items[head]!)) goodCount++;
      }
      for (; tail < head && timeOf(items[tail]!) <= t - options.windowMs; tail++) {
        count--;
        if (good(items[tail]!)) goodCount--;
      }
      return { count, good: goodCount };
    };
  };
  const mentionWindow = slide(byTime, (m) => m.atMs, (m) => m.matched);
  const incidentWindow = slide(incidentsByEnd, (i) => i.endMs, (i) => i.found);
  return gridTimes(options).map((atMs) => {
    const m = mentionWindow(atMs);
    const i = incidentWindow(atMs);
    return {
      atMs,
      precision: m.count >= minMentions ? m.good / m.count : null,
      recall: i.count >= minIncidents ? i.good / i.count : null,
      mentions: m.count,
      incidents: i.count,
    };
  });
}

export interface TargetOptions {
  /** Rolling precision to reach, (0, 1]. */
  readonly targetPrecision: number;
  /** How far below the reference's rolling recall the variant's may be, [0, 1] (0.05: 5 points). */
  readonly recallSlack: number;
  /** No time before this counts (the first label's event time), ms. */
  readonly notBeforeMs: number;
}

export interface TimeToTarget {
  /** Grid time first on target at or after `notBeforeMs`, or null when never. */
  readonly atMs: number | null;
  /** Whether some grid time before `notBeforeMs` was on target already. */
  readonly onTargetBeforeLabels: boolean;
}

/** Whether `point` is on target against `reference` (same grid time): both figures known, precision ≥ target, recall ≥ reference's − slack. */
export function onTarget(point: RollingPoint, reference: RollingPoint | undefined, options: Pick<TargetOptions, 'targetPrecision' | 'recallSlack'>): boolean {
  if (point.precision === null || point.recall === null || reference?.recall === null || reference === undefined) return false;
  return point.precision >= options.targetPrecision && point.recall >= reference.recall! - options.recallSlack;
}

/** The first grid time at or after `notBeforeMs` at which `series` is on target against `reference` (matched by grid time). */
export function timeToTarget(series: readonly RollingPoint[], reference: readonly RollingPoint[], options: TargetOptions): TimeToTarget {
  if (!(options.targetPrecision > 0 && options.targetPrecision <= 1)) throw new RangeError(`timeToTarget: targetPrecision must be in (0, 1], got ${options.targetPrecision}`);
  if (!(options.recallSlack >= 0 && options.recallSlack <= 1)) throw new RangeError(`timeToTarget: recallSlack must be in [0, 1], got ${options.recallSlack}`);
  const referenceAt = new Map(reference.map((p) => [p.atMs, p]));
  let onTargetBeforeLabels = false;
  for (const point of series) {
    if (!onTarget(point, referenceAt.get(point.atMs), options)) continue;
    if (point.atMs < options.notBeforeMs) onTargetBeforeLabels = true;
    else return { atMs: point.atMs, onTargetBeforeLabels };
  }
  return { atMs: null, onTargetBeforeLabels };
}

/** A label the lab's labelers gave, with what the recalibration needs of its mention. */
export interface GivenLabel {
  readonly mention_id: string;
  /** Event time of the label, ms. */
  readonly labeled_at: number;
  readonly verdict: 'TRUE_POSITIVE' | 'FALSE_POSITIVE' | 'UNSURE';
  readonly lane: 'fast' | 'slow';
  readonly model: string;
  readonly field: string;
  /** Whether the mention came from the change sketch (only those move a level). */
  readonly sketch: boolean;
  /**
   * Given after the variant's model-monitor had stopped (the labelers' final flush): it never
   * reached model-monitor, so the replay leaves it out. Absent: given while it ran.
   */
  readonly after_run?: boolean;
}

export interface LevelPoint {
  readonly atMs: number;
  /** Level factor per field after the labels given by `atMs`. */
  readonly scales: Readonly<Record<string, number>>;
}

/**
 * The field level factors over event time, replayed from the labels in event-time order with
 * model-monitor's own rule (recalibration.ts) and settings: one point per label that changed a
 * field's factor, after a first point at the start factor. model-monitor applies a label when it
 * reaches it (wall clock), which in a replay at full speed is a little later in event time than the
 * label's own time; its end factors are in the variant's run report, to compare with the replay's.
 */
export function replayLevels(labels: readonly GivenLabel[], options: LevelRecalibratorOptions, startMs: number): LevelPoint[] {
  const recalibrator = new LevelRecalibrator(options);
  const scalesNow = (): Record<string, number> => Object.fromEntries(recalibrator.report(0).fields.map((f) => [f.field, f.scale]));
  const points: LevelPoint[] = [{ atMs: startMs, scales: scalesNow() }];
  const applied = new Set<string>();
  for (const label of [...labels].sort((a, b) => a.labeled_at - b.labeled_at)) {
    // As the label join: the first verdict of a sketch mention counts, UNSURE waits, the rest are duplicates.
    if (!label.sketch || label.after_run === true || label.verdict === 'UNSURE' || applied.has(label.mention_id)) continue;
    applied.add(label.mention_id);
    recalibrator.label(label.model, label.field, label.verdict === 'TRUE_POSITIVE');
    const scales = scalesNow();
    const last = points[points.length - 1]!.scales;
    if (Object.keys(scales).some((field) => scales[field] !== last[field])) points.push({ atMs: label.labeled_at, scales });
  }
  return points;
}
