/** What a lab run produced, and reports/lab.json built from it. */
import type { UnitPricesUsd } from '../../runtime/cost/spend-meter.js';
import type { LabRow, VariantResult } from './variant-result.js';
import type { RecalibrationSummary } from './recalibration-report.js';

export interface LabReport {
  readonly command: string;
  readonly startedAt: string;
  readonly elapsedMs: number;
  readonly events: number;
  readonly seed: number;
  readonly incidents: number;
  readonly sampleFraction: number;
  readonly prices: UnitPricesUsd;
  readonly results: readonly VariantResult[];
  readonly failures: readonly { readonly name: string; readonly error: string }[];
  /** Variants not run because model-monitor does not accept their settings yet, with the reason. */
  readonly skipped: readonly { readonly name: string; readonly reason: string }[];
  /** The generator's stream profile, when not the default. */
  readonly profile?: string;
  /** Strict dedup (dedup-strict, else baseline): collapsed groups, and the share with more than one distinct sub-signal. */
  readonly collapsedGroups: number;
  readonly collapsedShare: number | null;
  /** The recalibration experiment, when the run had its variants (recalibration-report.ts). */
  readonly recalibration?: RecalibrationSummary;
}

/** Strict dedup's collapsed groups: from the dedup-strict ablation, else the baseline. */
export function collapsedGroups(results: readonly VariantResult[]): { groups: number; share: number | null } {
  const strict = results.find((r) => r.variant.name === 'dedup-strict') ?? results.find((r) => r.variant.name === 'baseline');
  if (strict === undefined) return { groups: 0, share: null };
  return { groups: strict.collapsedGroups, share: strict.collapsedGroups === 0 ? null : strict.collapsedWithSubSignals / strict.collapsedGroups };
}

/** reports/lab.json: one object per variant with exactly the row's names, plus the run's context under `_run`. */
export function labJson(report: LabReport): Record<string, LabRow | Record<string, unknown>> {
  const json: Record<string, LabRow | Record<string, unknown>> = {};
  for (const r of report.results) json[r.variant.name] = r.row;
  const base = report.results.find((r) => r.variant.name === 'baseline');
  const sp = report.results.find((r) => r.variant.name === 'signal-path');
  json['_run'] = {
    command: report.command,
    started_at: report.startedAt,
    elapsed_ms: report.elapsedMs,
    events: report.events,
    seed: report.seed,
    profile: report.profile ?? 'default',
    incidents: report.incidents,
    sample_fraction: report.sampleFraction,
    prices_usd: report.prices,
    spend_ratio_signal_path_to_baseline: base && sp && base.row.spend_usd > 0 ? sp.row.spend_usd / base.row.spend_usd : null,
    strict_collapsed_groups: report.collapsedGroups,
    strict_collapsed_share_with_several_sub_signals: report.collapsedShare,
    failures: report.failures,
    skipped: report.skipped,
  };
  if (report.recalibration !== undefined) json['_recalibration'] = { ...report.recalibration };
  return json;
}
