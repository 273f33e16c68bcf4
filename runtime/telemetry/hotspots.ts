/**
 * What the tail is made of. Every captured record (slow, failed, or in the head-sampled baseline)
 * leaves a {@link CapturedSummary}: its end-to-end time, the time per stage, the stage where it spent
 * longest (its hotspot) and what steps noted about it (lane, cache hit or miss, enrichment retries).
 * {@link HotspotSummary} folds them into a report that compares the slow records with the baseline:
 * a stage, key, lane or note value is a hotspot when it is far more common among slow records than
 * among ordinary ones ("lift"). The runner keeps one live (the status page) and can append the lines
 * to a file (`--hotspots-file`) that `signalpath hotspots <file>` reads.
 */
import type { SettlementOutcome } from '../../core/settlement.js';
import type { RecordNotes } from './stage-clock.js';

/** One captured record, as written to the hotspots file (one JSON object per line). */
export interface CapturedSummary {
  /** Epoch ms when the record settled. */
  readonly atMs: number;
  readonly topology: string;
  readonly reason: 'slow' | 'failed' | 'baseline';
  readonly outcome: SettlementOutcome;
  readonly key: string;
  readonly partition: number;
  readonly offset: number;
  /** The record span's trace id, or null when no tracer exports spans. */
  readonly traceId: string | null;
  readonly e2eMs: number;
  /** The tail threshold when it was captured, or null while warming up. */
  readonly thresholdMs: number | null;
  /** The stage (a step or `sink`) where the record spent longest. */
  readonly hotspot: string;
  /** Milliseconds per stage it reached (steps, then `sink` or the step that held it at the end). */
  readonly stagesMs: Readonly<Record<string, number>>;
  readonly notes: RecordNotes;
}

/** A value (stage, key, lane, …) and how common it is among slow records versus the baseline. */
export interface HotspotShare {
  readonly value: string;
  readonly slow: number;
  /** Share of slow records with this value, [0, 1]. */
  readonly slowShare: number;
  /** Share of baseline records with this value, [0, 1]; null without a baseline. */
  readonly baselineShare: number | null;
}

export interface HotspotReport {
  readonly slow: number;
  readonly failed: number;
  readonly baseline: number;
  /** Mean end-to-end ms of slow and of baseline records. */
  readonly slowMeanMs: number | null;
  readonly baselineMeanMs: number | null;
  /** Where slow records spent their time: each stage's share of their summed end-to-end time. */
  readonly timeShareByStage: readonly { readonly stage: string; readonly slowShare: number; readonly baselineShare: number | null }[];
  /** The stage each slow record spent longest in. */
  readonly hotspots: readonly HotspotShare[];
  readonly keys: readonly HotspotShare[];
  readonly partitions: readonly HotspotShare[];
  /** Per note name (lane, cache, enrich_retries, …): its values. */
  readonly notes: Readonly<Record<string, readonly HotspotShare[]>>;
}

/** Distinct values kept per dimension; beyond it new values count as `(other)`. */
const MAX_VALUES = 10_000;

class Tally {
  readonly slow = new Map<string, number>();
  readonly baseline = new Map<string, number>();

  add(value: string, slow: boolean): void {
    const counts = slow ? this.slow : this.baseline;
    const name = counts.has(value) || counts.size < MAX_VALUES ? value : '(other)';
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }

  shares(slowTotal: number, baselineTotal: number, top: number): HotspotShare[] {
    return [...this.slow.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([value, slow]) => ({
        value,
        slow,
        slowShare: slow / slowTotal,
        baselineShare: baselineTotal === 0 ? null : (this.baseline.get(value) ?? 0) / baselineTotal,
      }));
  }
}

export class HotspotSummary {
  #slow = 0;
  #failed = 0;
  #baseline = 0;
  #slowMs = 0;
  #baselineMs = 0;
  readonly #stageMs = { slow: new Map<string, number>(), baseline: new Map<string, number>() };
  readonly #hotspots = new Tally();
  readonly #keys = new Tally();
  readonly #partitions = new Tally();
  readonly #notes = new Map<string, Tally>();

  /** `failed` records count apart: a dead letter is fast or slow for reasons of its own. */
  add(summary: CapturedSummary): void {
    if (summary.reason === 'failed') {
      this.#failed++;
      return;
    }
    const slow = summary.reason === 'slow';
    if (slow) {
      this.#slow++;
      this.#slowMs += summary.e2eMs;
    } else {
      this.#baseline++;
      this.#baselineMs += summary.e2eMs;
    }
    const stageMs = slow ? this.#stageMs.slow : this.#stageMs.baseline;
    for (const [stage, ms] of Object.entries(summary.stagesMs)) stageMs.set(stage, (stageMs.get(stage) ?? 0) + ms);
    this.#hotspots.add(summary.hotspot, slow);
    this.#keys.add(summary.key, slow);
    this.#partitions.add(String(summary.partition), slow);
    for (const [name, value] of Object.entries(summary.notes)) {
      let tally = this.#notes.get(name);
      if (tally === undefined) {
        if (this.#notes.size >= 32) continue;
        this.#notes.set(name, (tally = new Tally()));
      }
      tally.add(String(value), slow);
    }
  }

  report(top = 5): HotspotReport {
    const slow = this.#slow;
    const baseline = this.#baseline;
    const stages = new Set([...this.#stageMs.slow.keys(), ...this.#stageMs.baseline.keys()]);
    const timeShareByStage = [...stages]
      .map((stage) => ({
        stage,
        slowShare: this.#slowMs > 0 ? (this.#stageMs.slow.get(stage) ?? 0) / this.#slowMs : 0,
        baselineShare: this.#baselineMs > 0 ? (this.#stageMs.baseline.get(stage) ?? 0) / this.#baselineMs : null,
      }))
      .sort((a, b) => b.slowShare - a.slowShare);
    const notes: Record<string, HotspotShare[]> = {};
    for (const [name, tally] of this.#notes) if (tally.slow.size > 0) notes[name] = tally.shares(slow, baseline, top);
    return {
      slow,
      failed: this.#failed,
      baseline,
      slowMeanMs: slow > 0 ? this.#slowMs / slow : null,
      baselineMeanMs: baseline > 0 ? this.#baselineMs / baseline : null,
      timeShareByStage,
      hotspots: this.#hotspots.shares(slow, baseline, top),
      keys: this.#keys.shares(slow, baseline, top),
      partitions: this.#partitions.shares(slow, baseline, top),
      notes,
    };
  }
}

const percent = (share: number | null): string => (share === null ? '    –' : `${(share * 100).toFixed(1).padStart(5)}%`);

/** The report as the text `signalpath hotspots` prints. */
export function formatHotspots(report: HotspotReport): string {
  const lines: string[] = [];
  const ms = (value: number | null): string => (value === null ? '–' : `${value.toFixed(1)} ms`);
  lines.push(`${report.slow} slow records (mean ${ms(report.slowMeanMs)}), ${report.baseline} baseline (mean ${ms(report.baselineMeanMs)}), ${report.failed} failed`);
  if (report.slow === 0) {
    lines.push('no slow records captured: the tail threshold is set after the first 1000 records settle (see --tail-percentile)');
    return lines.join('\n');
  }
  const table = (title: string, rows: readonly HotspotShare[]): void => {
    if (rows.length === 0) return;
    lines.push('', `${title.padEnd(28)}  slow  baseline`);
    for (const row of rows) lines.push(`  ${row.value.slice(0, 26).padEnd(26)}  ${percent(row.slowShare)}  ${percent(row.baselineShare)}`);
  };
  lines.push('', `${'time spent, by stage'.padEnd(28)}  slow  baseline`);
  // Stages where neither kind of record spent a measurable share (synchronous steps) are left out.
  for (const row of report.timeShareByStage.filter((r) => r.slowShare >= 0.0005 || (r.baselineShare ?? 0) >= 0.0005)) lines.push(`  ${row.stage.slice(0, 26).padEnd(26)}  ${percent(row.slowShare)}  ${percent(row.baselineShare)}`);
  table('hotspot (longest stage)', report.hotspots);
  table('key', report.keys);
  table('partition', report.partitions);
  for (const [name, rows] of Object.entries(report.notes)) table(name, rows);
  const top = report.hotspots[0]!;
  lines.push('', `the tail is mostly ${top.value}: ${(top.slowShare * 100).toFixed(0)}% of slow records spent longest there`);
  return lines.join('\n');
}
