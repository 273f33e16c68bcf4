/**
 * The shadow report: live mentions against each shadow detector's mentions over one event-time
 * range, judged by labels (and the ground truth, when there is one). Plain functions, no I/O.
 *
 * - **Agreement**: a live and a shadow mention match when model, segment, field and direction agree
 *   and their windows overlap. Per field: both (mentions of either side with a match on the other),
 *   live-only, shadow-only; agreement = matched mentions of both sides ÷ all of them.
 * - **Labelled precision**: per side, TRUE_POSITIVE ÷ (TRUE_POSITIVE + FALSE_POSITIVE) over the
 *   mentions with a label (the first true/false-positive label of an id; UNSURE ignored), with its
 *   Wilson score interval at `confidence`.
 * - **Verdict** ({@link shadowVerdict}), with n labels each side at least `minLabels`:
 *   - *regression* when the shadow's upper bound is below live's lower bound, or below the target
 *     precision while its point estimate is below live's;
 *   - *promote* when the shadow is at least as precise as live — its estimate and its lower bound
 *     both at least live's — and at least one shadow-only mention is a labelled true positive (it
 *     finds what live misses);
 *   - *hold* otherwise (too few labels on either side included).
 *   At a fixed number of labels the verdict never goes down as the shadow's precision goes up, nor up
 *   as live's does (tested).
 */
import type { Label, Mention } from '../../schemas/index.js';
import { mentionMatchesIncident, type IncidentWindow } from '../evaluate/incident-match.js';

export type Verdict = 'promote' | 'hold' | 'regression';
export const VERDICT_RANK: Readonly<Record<Verdict, number>> = { regression: 0, hold: 1, promote: 2 };

export interface Interval {
  readonly point: number | null;
  readonly lower: number;
  readonly upper: number;
}

/** Wilson score interval of `successes` in `trials` at two-sided `confidence` (0 trials: [0, 1], no point). */
export function wilsonInterval(successes: number, trials: number, confidence = 0.95): Interval {
  if (trials === 0) return { point: null, lower: 0, upper: 1 };
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const p = successes / trials;
  const z2 = z * z;
  const centre = (p + z2 / (2 * trials)) / (1 + z2 / trials);
  const half = (z / (1 + z2 / trials)) * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  return { point: p, lower: Math.max(0, centre - half), upper: Math.min(1, centre + half) };
}

/** Standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9). */
function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155211352];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

export interface VerdictRule {
  /** The labelled precision a detector must reach (MODEL_MONITOR_TARGET_PRECISION's default). Default 0.95. */
  readonly targetPrecision: number;
  /** Labels each side needs before anything but hold. Default 10. */
  readonly minLabels: number;
  /** Confidence of the intervals. Default 0.95. */
  readonly confidence: number;
}

export const DEFAULT_RULE: VerdictRule = { targetPrecision: 0.95, minLabels: 10, confidence: 0.95 };

export interface LabelledSide {
  readonly truePositives: number;
  readonly falsePositives: number;
}

/** The verdict of a shadow against live (the rule in the module comment), and why. */
export function shadowVerdict(live: LabelledSide, shadow: LabelledSide, shadowOnlyTrue: number, rule: VerdictRule = DEFAULT_RULE): { verdict: Verdict; reason: string } {
  const nLive = live.truePositives + live.falsePositives;
  const nShadow = shadow.truePositives + shadow.falsePositives;
  if (nLive < rule.minLabels || nShadow < rule.minLabels) return { verdict: 'hold', reason: `too few labels (live ${nLive}, shadow ${nShadow}; ${rule.minLabels} each needed)` };
  const l = wilsonInterval(live.truePositives, nLive, rule.confidence);
  const s = wilsonInterval(shadow.truePositives, nShadow, rule.confidence);
  const pct = (x: number | null): string => (x === null ? 'n/a' : `${(100 * x).toFixed(1)} %`);
  if (s.upper < l.lower) return { verdict: 'regression', reason: `shadow precision's upper bound ${pct(s.upper)} is below live's lower bound ${pct(l.lower)}` };
  if (s.upper < rule.targetPrecision && s.point! < l.point!) return { verdict: 'regression', reason: `shadow precision's upper bound ${pct(s.upper)} is below the target ${pct(rule.targetPrecision)} and its estimate ${pct(s.point)} below live's ${pct(l.point)}` };
  const asPrecise = s.point! >= l.point! && s.lower >= l.lower;
  if (asPrecise && shadowOnlyTrue > 0) return { verdict: 'promote', reason: `shadow precision ${pct(s.point)} [${pct(s.lower)}, ${pct(s.upper)}] at least live's ${pct(l.point)} [${pct(l.lower)}, ${pct(l.upper)}], and ${shadowOnlyTrue} shadow-only mention(s) labelled true` };
  return { verdict: 'hold', reason: asPrecise ? 'as precise as live but no shadow-only mention labelled true' : `shadow precision ${pct(s.point)} [${pct(s.lower)}, ${pct(s.upper)}] against live's ${pct(l.point)} [${pct(l.lower)}, ${pct(l.upper)}]: neither shown worse nor as precise` };
}

/** Whether two mentions are about the same thing: model, segment, field, direction, overlapping windows. */
export function sameFinding(a: Mention, b: Mention): boolean {
  return a.model_id === b.model_id && a.segment === b.segment && a.field === b.field && a.direction === b.direction && a.window_start < b.window_end && b.window_start < a.window_end;
}

export interface SideFigures {
  readonly mentions: number;
  /** Mentions with a true/false-positive label. */
  readonly labelled: number;
  readonly truePositives: number;
  readonly falsePositives: number;
  readonly unsure: number;
  readonly precision: Interval;
  /** Precision against the ground truth over every mention (when `--truth` was given). */
  readonly truthPrecision?: number | null;
}

export interface FieldFigures {
  readonly field: string;
  readonly both: { readonly live: number; readonly shadow: number };
  readonly liveOnly: number;
  readonly shadowOnly: number;
  /** Shadow-only / live-only mentions labelled true positive. */
  readonly shadowOnlyTrue: number;
  readonly liveOnlyTrue: number;
}

export interface ShadowComparison {
  readonly shadow: string;
  readonly live: SideFigures;
  readonly shadowSide: SideFigures;
  readonly agreement: number | null;
  readonly fields: readonly FieldFigures[];
  readonly verdict: Verdict;
  readonly reason: string;
}

export interface ShadowReport {
  readonly range: { readonly fromMs: number | null; readonly toMs: number | null };
  readonly rule: VerdictRule;
  readonly labels: number;
  readonly comparisons: readonly ShadowComparison[];
}

export interface ShadowReportInput {
  /** Mentions of the live topic (shadow ones in it are ignored). */
  readonly live: readonly Mention[];
  /** Mentions of the shadow topic, `attributes.shadow_detector` naming their shadow. */
  readonly shadow: readonly Mention[];
  readonly labels: readonly Label[];
  /** Event-time range: mentions whose window starts in [fromMs, toMs). */
  readonly fromMs?: number;
  readonly toMs?: number;
  readonly incidents?: readonly IncidentWindow[];
  readonly slackMs?: number;
  readonly rule?: Partial<VerdictRule>;
}

/** The comparison of every shadow in the input with live. */
export function shadowReport(input: ShadowReportInput): ShadowReport {
  const rule: VerdictRule = { ...DEFAULT_RULE, ...input.rule };
  const inRange = (m: Mention): boolean => (input.fromMs === undefined || m.window_start >= input.fromMs) && (input.toMs === undefined || m.window_start < input.toMs);
  const verdicts = new Map<string, Label['verdict']>();
  for (const label of input.labels) {
    if (label.verdict === 'UNSURE') {
      if (!verdicts.has(label.mention_id)) verdicts.set(label.mention_id, 'UNSURE');
    } else if (verdicts.get(label.mention_id) === undefined || verdicts.get(label.mention_id) === 'UNSURE') verdicts.set(label.mention_id, label.verdict);
  }
  const live = dedupe(input.live.filter((m) => !m.shadow && inRange(m)));
  const names = [...new Set(input.shadow.filter((m) => m.shadow).map((m) => m.attributes['shadow_detector'] ?? 'shadow'))].sort();
  const comparisons = names.map((name): ShadowComparison => {
    const shadow = dedupe(input.shadow.filter((m) => m.shadow && (m.attributes['shadow_detector'] ?? 'shadow') === name && inRange(m)));
    const liveMatched = live.map((m) => shadow.some((s) => sameFinding(m, s)));
    const shadowMatched = shadow.map((s) => live.some((m) => sameFinding(m, s)));
    const fields = [...new Set([...live, ...shadow].map((m) => m.field))].sort().map((field): FieldFigures => {
      const pick = (list: readonly Mention[], flags: readonly boolean[], want: boolean): Mention[] => list.filter((m, i) => m.field === field && flags[i] === want);
      const isTrue = (m: Mention): boolean => verdicts.get(m.mention_id) === 'TRUE_POSITIVE';
      const liveOnly = pick(live, liveMatched, false);
      const shadowOnly = pick(shadow, shadowMatched, false);
      return { field, both: { live: pick(live, liveMatched, true).length, shadow: pick(shadow, shadowMatched, true).length }, liveOnly: liveOnly.length, shadowOnly: shadowOnly.length, shadowOnlyTrue: shadowOnly.filter(isTrue).length, liveOnlyTrue: liveOnly.filter(isTrue).length };
    });
    const side = (list: readonly Mention[]): SideFigures => {
      let tp = 0;
      let fp = 0;
      let unsure = 0;
      for (const m of list) {
        const v = verdicts.get(m.mention_id);
        if (v === 'TRUE_POSITIVE') tp++;
        else if (v === 'FALSE_POSITIVE') fp++;
        else if (v === 'UNSURE') unsure++;
      }
      const truthPrecision = input.incidents === undefined ? undefined : list.length === 0 ? null : list.filter((m) => input.incidents!.some((i) => mentionMatchesIncident(m, i, input.slackMs ?? 60_000))).length / list.length;
      return { mentions: list.length, labelled: tp + fp, truePositives: tp, falsePositives: fp, unsure, precision: wilsonInterval(tp, tp + fp, rule.confidence), ...(truthPrecision === undefined ? {} : { truthPrecision }) };
    };
    const liveSide = side(live);
    const shadowSide = side(shadow);
    const matched = liveMatched.filter(Boolean).length + shadowMatched.filter(Boolean).length;
    const total = live.length + shadow.length;
    const shadowOnlyTrue = fields.reduce((sum, f) => sum + f.shadowOnlyTrue, 0);
    const { verdict, reason } = shadowVerdict(liveSide, shadowSide, shadowOnlyTrue, rule);
    return { shadow: name, live: liveSide, shadowSide, agreement: total === 0 ? null : matched / total, fields, verdict, reason };
  });
  return { range: { fromMs: input.fromMs ?? null, toMs: input.toMs ?? null }, rule, labels: verdicts.size, comparisons };
}

/** One mention per id (a topic read again after a restart may hold a mention twice). */
function dedupe(mentions: readonly Mention[]): Mention[] {
  const seen = new Set<string>();
  return mentions.filter((m) => (seen.has(m.mention_id) ? false : (seen.add(m.mention_id), true)));
}

/** The report as Markdown. */
export function shadowReportMarkdown(report: ShadowReport): string {
  const pct = (x: number | null | undefined): string => (x === null || x === undefined ? 'n/a' : `${(100 * x).toFixed(1)} %`);
  const interval = (i: Interval): string => `${pct(i.point)} [${pct(i.lower)}, ${pct(i.upper)}]`;
  const range = report.range.fromMs === null && report.range.toMs === null ? 'whole topics' : `${report.range.fromMs === null ? '…' : new Date(report.range.fromMs).toISOString()} – ${report.range.toMs === null ? '…' : new Date(report.range.toMs).toISOString()}`;
  const lines = [
    '# Shadow report',
    '',
    `Event time: ${range}. Labels: ${report.labels} mentions labelled. Precision: Wilson interval at ${pct(report.rule.confidence)}.`,
    '',
    `Rule (${report.rule.minLabels} labels each side at least, else hold): **regression** when the shadow's upper bound is below live's lower bound, or below the target (${pct(report.rule.targetPrecision)}) while its estimate is below live's; **promote** when its precision estimate and lower bound are both at least live's and a shadow-only mention is labelled true; **hold** otherwise.`,
  ];
  if (report.comparisons.length === 0) lines.push('', 'No shadow mentions in range.');
  for (const c of report.comparisons) {
    lines.push('', `## ${c.shadow}: **${c.verdict}**`, '', c.reason, '', '| | mentions | labelled (TP / FP / unsure) | labelled precision | precision vs truth |', '|---|---:|---|---|---:|');
    for (const [name, s] of [['live', c.live], ['shadow', c.shadowSide]] as const) lines.push(`| ${name} | ${s.mentions} | ${s.labelled} (${s.truePositives} / ${s.falsePositives} / ${s.unsure}) | ${interval(s.precision)} | ${s.truthPrecision === undefined ? '–' : pct(s.truthPrecision)} |`);
    lines.push('', `Agreement: ${pct(c.agreement)}.`, '', '| field | both (live / shadow) | live-only (labelled true) | shadow-only (labelled true) |', '|---|---|---|---|');
    for (const f of c.fields) lines.push(`| ${f.field} | ${f.both.live} / ${f.both.shadow} | ${f.liveOnly} (${f.liveOnlyTrue}) | ${f.shadowOnly} (${f.shadowOnlyTrue}) |`);
  }
  return `${lines.join('\n')}\n`;
}
