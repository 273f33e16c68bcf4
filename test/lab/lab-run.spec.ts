/**
 * The lab's figures without a broker: lane-load CV, cost KPIs from a run summary, the threshold
 * curve, strict dedup's collapsed groups, the variants (each ablation changes one component of
 * signal-path), and the reports built from them.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { GroundTruth } from '../../lab/generator/index.js';
import { coefficientOfVariation, costKpis, scoreMentions, type RunSummaryFile } from '../../lab/evaluate/index.js';
import { labJson, labVariants, type LabReport } from '../../lab/lab-run/index.js';
import { collapsedGroups } from '../../lab/lab-run/lab-report.js';
import { unsupportedReason } from '../../lab/lab-run/variant-support.js';
import { renderLabMarkdown } from '../../lab/lab-run/report-markdown.js';
import { thresholdCurve, variantResult } from '../../lab/lab-run/variant-result.js';
import type { Mention } from '../../schemas/index.js';

const MIN = 60_000;
const truth: GroundTruth = {
  run: { seed: 1, events: 100_000, models: 2, start_ms: 0, end_ms: 100 * MIN, events_per_second: 100, cell_window_ms: MIN, traffic_cells: 1_000, fields: ['latency_ms', 'confidence'] },
  incidents: [
    { id: 'a', kind: 'latency-shift', model_id: 'm1', segment: 'rare', field: 'latency_ms', direction: 'HIGH', start: 10 * MIN, end: 15 * MIN, magnitude: 3, affectedShare: 1, affected_events: 4, affected_ts: [10 * MIN, 11 * MIN + 1] },
    { id: 'b', kind: 'confidence-drop', model_id: 'm2', segment: 'common', field: 'confidence', direction: 'LOW', start: 50 * MIN, end: 52 * MIN, magnitude: 0.3, affectedShare: 1, affected_events: 10, affected_ts: [50 * MIN] },
  ],
};

let id = 0;
function mention(overrides: Partial<Mention>): Mention {
  return {
    mention_id: `m${id++}`, emitted_at: 2_000, window_start: 11 * MIN, window_end: 12 * MIN, model_id: 'm1', model_version: 'v1', tenant: 't', segment: 'rare',
    field: 'latency_ms', direction: 'HIGH', detector: 'ewma-zscore', score: 1, cluster_id: 'c', event_count: 2, evidence_event_ids: [], shadow: false, attributes: { first_evidence_arrived_at: '1000' },
    ...overrides,
  };
}

function summary(spendUsd: number, laneRecords: number[], enrichDelay?: Record<string, number>): RunSummaryFile {
  return {
    consumed: truth.run.events,
    elapsedMs: 1000,
    spend: { counts: { 'ingested-event': truth.run.events }, spend_usd_by_item: { 'ingested-event': spendUsd }, spend_usd: spendUsd },
    cpu_s: 3,
    peak_rss_mb: 200,
    topologyReport: { lanes: laneRecords.map((records, lane) => ({ lane, records })), ...(enrichDelay === undefined ? {} : { enrich_delay: enrichDelay }) },
  };
}

describe('lab: figures and reports', () => {
  it('lane-load CV is std / mean: 0 for equal lanes, unchanged by scaling every lane', () => {
    expect(coefficientOfVariation([5, 5, 5, 5])).to.equal(0);
    expect(coefficientOfVariation([0, 0, 0, 8])).to.be.closeTo(Math.sqrt(3), 1e-12);
    expect(coefficientOfVariation([])).to.equal(null);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 1e6 }), { minLength: 1, maxLength: 16 }), fc.integer({ min: 2, max: 100 }), (lanes, k) => {
        expect(coefficientOfVariation(lanes.map((x) => x * k))!).to.be.closeTo(coefficientOfVariation(lanes)!, 1e-9);
      }),
    );
  });

  it('mentions per $1k come from the counted spend', () => {
    const score = scoreMentions([mention({}), mention({ model_id: 'm2' })], truth);
    const kpis = costKpis(score, summary(0.5, [10, 10]));
    expect(kpis).to.include({ spend_usd: 0.5, mentions_per_1k_usd: 4000, cpu_s: 3, peak_rss_mb: 200, lane_load_cv: 0 });
    expect(costKpis(score, summary(0, [])).mentions_per_1k_usd).to.equal(null);
  });

  it('the threshold curve keeps fewer mentions as the threshold rises and re-scores them', () => {
    const mentions = [mention({ score: 0.9 }), mention({ score: 0.2, model_id: 'm2' }), mention({ score: 0.5, segment: 'other' })];
    const curve = thresholdCurve(mentions, truth);
    expect(curve[0]).to.include({ threshold: 0.2, mentions: 3, recall: 0.5 });
    expect(curve.at(-1)).to.include({ threshold: 0.9, mentions: 1, precision: 1, recall: 0.5 });
    for (let i = 1; i < curve.length; i++) expect(curve[i]!.mentions).to.be.at.most(curve[i - 1]!.mentions);
  });

  it('strict dedup: the share of collapsed groups holding more than one distinct sub-signal', () => {
    const strict = labVariants().find((v) => v.name === 'dedup-strict')!;
    const mentions = [mention({ attributes: { sub_signals: '3' } }), mention({ attributes: { sub_signals: '1' } }), mention({ event_count: 1, attributes: { sub_signals: '1' } })];
    const result = variantResult(strict, mentions, truth, summary(1, [1, 1]));
    expect(result).to.include({ collapsedGroups: 2, collapsedWithSubSignals: 1 });
    expect(collapsedGroups([result])).to.deep.equal({ groups: 2, share: 0.5 });
  });

  it('each ablation changes exactly one component of signal-path; every variant samples the same share but the ceiling', () => {
    const variants = labVariants(0.02);
    const signalPath = variants.find((v) => v.name === 'signal-path')!;
    const baseline = variants.find((v) => v.name === 'baseline')!;
    expect(Object.keys(baseline.env)).to.have.members(Object.keys(signalPath.env));
    // The study's baseline hashes by model; signal-path and its ablations keep order per model × segment.
    expect(baseline.env['MODEL_MONITOR_LANE_KEY']).to.equal('model');
    for (const variant of variants.filter((v) => v.from !== undefined)) expect(variant.env['MODEL_MONITOR_LANE_KEY'], variant.name).to.equal('model-segment');
    for (const variant of variants) {
      expect(variant.env['MODEL_MONITOR_SAMPLE_FRACTION'], variant.name).to.equal(variant.name === 'ceiling' ? '1' : '0.02');
      if (variant.from === undefined) continue;
      const changed = Object.keys(variant.env).filter((k) => variant.env[k] !== signalPath.env[k]);
      const expected: Record<string, string[]> = {
        sampling: ['MODEL_MONITOR_SAMPLING'],
        enrichment: ['MODEL_MONITOR_ENRICH_MODE', 'MODEL_MONITOR_ENRICH_CACHE_ENTRIES'],
        // Routing only: the lane key stays signal-path's, so the row compares routing, not keys.
        partitioning: ['MODEL_MONITOR_ROUTING', 'MODEL_MONITOR_BOUNDED_LOAD_EPSILON', 'MODEL_MONITOR_STEALING'],
        // Since the sketch became model-monitor's default detection (sketch on, sampled detectors
        // none), signal-path is the sketch alone and sketch-only changes nothing.
        detection: variant.name === 'sketch-only' ? [] : ['MODEL_MONITOR_THRESHOLD_TUNING'],
        dedup: ['MODEL_MONITOR_DEDUP_MODE'],
        budget: ['MODEL_MONITOR_SAMPLE_FRACTION'],
        // The recalibration experiment: where the levels start, and learning on (fast vs slow is the labelers').
        recalibration: ['MODEL_MONITOR_RECALIBRATE', 'MODEL_MONITOR_LEVEL_SCALE'],
      };
      expect(changed, variant.name).to.have.members(expected[variant.component]!);
    }
  });

  it('lab.json holds one object per variant with exactly the row names; lab.md a row per variant beside the study', () => {
    const variants = labVariants();
    // What enrichment delayed or failed, as model-monitor's run report has it (enrich-delay.ts).
    const enrichDelay: Record<string, Record<string, number>> = {
      'enrich-batched': { delayed_past_window: 120, failed: 8, affected_mentions: 40 },
      'signal-path': { delayed_past_window: 9, failed: 1, affected_mentions: 4 },
    };
    const results = variants.map((v, i) => variantResult(v, [mention({ emitted_at: 1000 + 100 * i })], truth, summary(1 + i / 100, [i + 1, 1], enrichDelay[v.name])));
    const report: LabReport = {
      command: 'test', startedAt: 'now', elapsedMs: 1, events: truth.run.events, seed: 1, incidents: 2, sampleFraction: 0.01,
      prices: { perEvent: 1, perEnrichmentCall: 1, perDetectorCall: 1 }, results, failures: [], skipped: [], collapsedGroups: 0, collapsedShare: null,
    };
    const json = labJson(report);
    for (const v of variants) expect(Object.keys(json[v.name]!)).to.have.members(['recall', 'precision', 'episode_precision', 'mentions_per_episode', 'mentions_per_10k', 'true_mentions_per_10k', 'mentions_per_1k_usd', 'spend_usd', 'p50_ms', 'p99_ms', 'lane_load_cv', 'enrich_delayed_records', 'enrich_failed_records', 'enrich_affected_mentions', 'labels_fast', 'labels_slow', 'feedback_fast_p50_ms', 'feedback_slow_p50_ms']);
    expect(json['enrich-batched']).to.deep.include({ enrich_delayed_records: 120, enrich_failed_records: 8, enrich_affected_mentions: 40 });
    expect(json['baseline']).to.deep.include({ enrich_delayed_records: null, enrich_affected_mentions: null });
    expect(json['signal-path']).to.deep.include({ recall: 0.5, precision: 1, spend_usd: 1.01, p50_ms: 100 });
    expect((json['_run'] as Record<string, unknown>)['spend_ratio_signal_path_to_baseline']).to.equal(1.01);
    const markdown = renderLabMarkdown(report);
    expect(markdown).to.include('| recall / precision | 46% / 99.2% | 68% / 97.6% | 50.0% / 100.0% | 50.0% / 100.0% |');
    expect(markdown).to.include('Spend ratio signal-path / baseline: **1.010**');
    // The goal's quantity: (X − Y) / X of the mentions batched enrichment delays or drops; incidents missed stay.
    expect(markdown).to.match(/^\| enrichment \|.*\| batched delayed\/dropped 40; async \+ LRU delayed\/dropped 4; recovered 90\.0% \(mentions\); async \+ LRU finds \d+ of the \d+ incidents batched misses/m);
    expect(markdown).to.include('records: batched 120 delayed past their window, 8 failed; async + LRU 9 delayed past their window, 1 failed.');
    expect(markdown).to.match(/^\| partitioning \|.*partition-static vs signal-path, both with lanes keyed by model-segment: static hashing without stealing vs consistent hashing with loads bounded/m);
    for (const v of variants) expect(markdown).to.match(new RegExp(`^\\| ${v.name} \\|`, 'm'));
    // True mentions and episodes beside the raw figures; the sampling comparison on true mentions.
    expect(markdown).to.match(/^\| true mention rate \| — \| — \| 0\.10 per 10k \| 0\.10 per 10k \|/m);
    expect(markdown).to.match(/^\| precision per episode \| — \| — \| 100\.0% \(1 of 1\) \|/m);
    expect(markdown).to.match(/^\| sampling \(equal budget\) \|.*\| true mentions: stratified \+0\.0%, adaptive \+0\.0%/m);
    expect(markdown).to.match(/^## Bounds: no sampling, and the sketch alone/m);
  });

  it('a variant whose settings model-monitor does not accept is skipped with the reason, and says so in lab.json and lab.md', () => {
    const signalPath = labVariants().find((v) => v.name === 'signal-path')!;
    expect(unsupportedReason(signalPath)).to.equal(undefined);
    expect(unsupportedReason(labVariants().find((v) => v.name === 'ceiling')!)).to.equal(undefined);
    expect(unsupportedReason({ ...signalPath, env: { ...signalPath.env, MODEL_MONITOR_NO_SUCH_KNOB: 'on' } })).to.equal('model-monitor has no setting MODEL_MONITOR_NO_SUCH_KNOB');
    expect(unsupportedReason({ ...signalPath, env: { ...signalPath.env, MODEL_MONITOR_SAMPLE_FRACTION: '7' } })).to.match(/^model-monitor rejects it: invalid MODEL_MONITOR_SAMPLE_FRACTION="7"/);
    // sketch-only needs the sketch stage: either model-monitor has it, or the reason names what is missing.
    const sketchOnly = labVariants().find((v) => v.name === 'sketch-only')!;
    expect(sketchOnly.needs).to.be.a('string');
    const reason = unsupportedReason(sketchOnly);
    if (reason !== undefined) expect(reason).to.match(/MODEL_MONITOR_(SKETCH|DETECTORS)/);
    const report: LabReport = {
      command: 'test', startedAt: 'now', elapsedMs: 1, events: truth.run.events, seed: 1, incidents: 2, sampleFraction: 0.01,
      prices: { perEvent: 1, perEnrichmentCall: 1, perDetectorCall: 1 }, results: [variantResult(signalPath, [mention({})], truth, summary(1, [1]))], failures: [],
      skipped: [{ name: 'sketch-only', reason: 'needs the sketch stage: model-monitor has no setting MODEL_MONITOR_SKETCH' }], collapsedGroups: 0, collapsedShare: null, profile: 'noisy',
    };
    expect((labJson(report)['_run'] as Record<string, unknown>)['skipped']).to.deep.equal(report.skipped);
    expect((labJson(report)['_run'] as Record<string, unknown>)['profile']).to.equal('noisy');
    const markdown = renderLabMarkdown(report);
    expect(markdown).to.include('| sketch-only | skipped: needs the sketch stage: model-monitor has no setting MODEL_MONITOR_SKETCH |');
    expect(markdown).to.include('profile noisy');
    expect(markdown, 'no labels, no feedback section').to.not.include('## Feedback lanes');
  });

  it('carries the labelers\' figures per lane into lab.json and lab.md', () => {
    const signalPath = labVariants().find((v) => v.name === 'signal-path')!;
    const lane = (labels: number, eventTimeP50Ms: number | null) => ({ labels, eventTimeP50Ms, eventTimeP99Ms: eventTimeP50Ms, processingP50Ms: 1000, processingP99Ms: 2000 });
    const labels = {
      counts: { offered: { fast: 3, slow: 9 }, duplicates: 3, labelled: { fast: 3, slow: 9 }, verdicts: { TRUE_POSITIVE: 8, FALSE_POSITIVE: 3, UNSURE: 1 }, wrong: 0, dropped: 0, waitedForCapacity: 0 },
      latency: { fast: lane(3, 240_000), slow: lane(9, 2 * 3_600_000) },
      labelsWritten: 12,
      undecodable: 0,
    };
    const result = variantResult(signalPath, [mention({})], truth, summary(1, [1]), labels);
    expect(result.row).to.include({ labels_fast: 3, labels_slow: 9, feedback_fast_p50_ms: 240_000, feedback_slow_p50_ms: 7_200_000 });
    const report: LabReport = {
      command: 'test', startedAt: 'now', elapsedMs: 1, events: truth.run.events, seed: 1, incidents: 2, sampleFraction: 0.01,
      prices: { perEvent: 1, perEnrichmentCall: 1, perDetectorCall: 1 }, results: [result], failures: [], skipped: [], collapsedGroups: 0, collapsedShare: null,
    };
    expect(renderLabMarkdown(report)).to.include('| signal-path | 3 | 4.0 min | 9 | 2.0 h |');
    expect((labJson(report)['signal-path'] as Record<string, unknown>)['labels_fast']).to.equal(3);
  });
});
