/**
 * The cost side of an evaluation: the run summary that `signalpath run --summary` writes (spend
 * counted by the runtime's meter, CPU seconds, peak RSS, what the topology reported) and the KPIs
 * derived from it with the mention score — mentions per $1k of spend above all.
 */
import { readFile } from 'node:fs/promises';
import type { MentionScore } from './score-mentions.js';

/** The fields of a run summary that the evaluation reads (the runner's RunSummary, as JSON). */
export interface RunSummaryFile {
  readonly consumed: number;
  readonly elapsedMs: number;
  readonly spend: {
    readonly counts: Readonly<Record<string, number>>;
    readonly spend_usd_by_item: Readonly<Record<string, number>>;
    readonly spend_usd: number;
  };
  readonly cpu_s: number;
  readonly peak_rss_mb: number;
  readonly topologyReport?: Readonly<Record<string, unknown>>;
}

export interface CostKpis {
  readonly spend_usd: number;
  /** Mentions per $1 000 of spend; null when nothing was spent. */
  readonly mentions_per_1k_usd: number | null;
  readonly cpu_s: number;
  readonly peak_rss_mb: number;
  /** Coefficient of variation (std / mean) of the records each lane processed; null without lanes. */
  readonly lane_load_cv: number | null;
}

export async function readRunSummary(file: string): Promise<RunSummaryFile> {
  const summary = JSON.parse(await readFile(file, 'utf8')) as Partial<RunSummaryFile>;
  if (typeof summary.spend?.spend_usd !== 'number' || typeof summary.cpu_s !== 'number' || typeof summary.peak_rss_mb !== 'number') {
    throw new Error(`${file}: not a run summary of signalpath run --summary (spend, cpu_s and peak_rss_mb missing)`);
  }
  return summary as RunSummaryFile;
}

/** std / mean of `values` (population std); null for no values or a zero mean. */
export function coefficientOfVariation(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (mean === 0) return null;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  return Math.sqrt(variance) / mean;
}

/** Per-lane record counts from a topology report that has `lanes: [{ records }]`. */
export function laneRecords(report: Readonly<Record<string, unknown>> | undefined): number[] {
  const lanes = report?.['lanes'];
  if (!Array.isArray(lanes)) return [];
  return lanes.map((lane) => Number((lane as { records?: unknown }).records)).filter(Number.isFinite);
}

export function costKpis(score: MentionScore, summary: RunSummaryFile): CostKpis {
  const spend = summary.spend.spend_usd;
  return {
    spend_usd: spend,
    mentions_per_1k_usd: spend > 0 ? (score.mentions * 1000) / spend : null,
    cpu_s: summary.cpu_s,
    peak_rss_mb: summary.peak_rss_mb,
    lane_load_cv: coefficientOfVariation(laneRecords(summary.topologyReport)),
  };
}

export function formatCost(kpis: CostKpis, summary: RunSummaryFile): string[] {
  const counts = summary.spend.counts;
  const by = summary.spend.spend_usd_by_item;
  const usd = (x: number | undefined): string => `$${(x ?? 0).toFixed(4)}`;
  return [
    `  spend                  ${usd(kpis.spend_usd)} (events ${(counts['ingested-event'] ?? 0).toLocaleString('en')} → ${usd(by['ingested-event'])}, enrichment calls ${(counts['enrichment-call'] ?? 0).toLocaleString('en')} → ${usd(by['enrichment-call'])}, detector calls ${(counts['detector-call'] ?? 0).toLocaleString('en')} → ${usd(by['detector-call'])})`,
    `  mentions per $1k       ${kpis.mentions_per_1k_usd === null ? 'n/a (no spend)' : kpis.mentions_per_1k_usd.toFixed(1)}`,
    `  resources              CPU ${kpis.cpu_s.toFixed(1)} s, peak RSS ${kpis.peak_rss_mb.toFixed(0)} MB (the topology process)${kpis.lane_load_cv === null ? '' : `, lane load CV ${(100 * kpis.lane_load_cv).toFixed(1)} %`}`,
  ];
}
