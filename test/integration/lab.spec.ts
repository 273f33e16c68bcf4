/**
 * `signalpath lab` end to end on the real broker, small: ≈ 50k generated events, every variant as
 * its own `signalpath run model-monitor` process. The three reports are written, every variant's row
 * holds measured figures, the study's table has our figures in every row, and the signal-path
 * topology is compared with the baseline on recall.
 */
import { expect } from 'chai';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { labVariants, runLab, type LabOutcome } from '../../lab/lab-run/index.js';
import { SETTINGS } from '../../runtime/config.js';
import { sharedBroker } from '../support/broker.js';

const ENRICH_DELAY = ['enrich_delayed_records', 'enrich_failed_records', 'enrich_affected_mentions'];
/** The lab's labelers (lab/labeler): labels per lane, and the event time to a label per lane (null: none on that lane). */
const LABELS = ['labels_fast', 'labels_slow', 'feedback_fast_p50_ms', 'feedback_slow_p50_ms'];
const ROW_NAMES = ['recall', 'precision', 'episode_precision', 'mentions_per_episode', 'mentions_per_10k', 'true_mentions_per_10k', 'mentions_per_1k_usd', 'spend_usd', 'p50_ms', 'p99_ms', 'lane_load_cv', ...ENRICH_DELAY, ...LABELS];
/** Figures every variant has, mentions or not (model-monitor reports enrich_delay always); the latencies exist only where there are mentions. */
const ALWAYS_MEASURED = ['recall', 'precision', 'episode_precision', 'mentions_per_episode', 'mentions_per_10k', 'true_mentions_per_10k', 'mentions_per_1k_usd', 'spend_usd', 'lane_load_cv', ...ENRICH_DELAY, 'labels_fast', 'labels_slow'];

describe('integration: signalpath lab', function () {
  this.timeout(900_000);
  let outcome: LabOutcome;
  let json: Record<string, Record<string, unknown>>;

  before(async () => {
    const brokers = (await sharedBroker()).brokers;
    const reportsDir = await mkdtemp(path.join(os.tmpdir(), 'lab-spec-'));
    outcome = await runLab({
      brokers,
      events: 50_000,
      seed: 7,
      // Few models, so that 50k events give each incident traffic enough to be observable (as the
      // model-monitor integration test does); the lab's default is the generator's 50 models. 40
      // incidents, not 6: with 6, one incident is 17 points of recall and the recall comparison is a
      // coin toss between runs; with 40 it is 2.5 points, and the margin between the two variants
      // grows with the incidents while the run-to-run spread grows with their square root (a
      // test-size choice, the generator is unchanged; the runtime depends on the events, not on them).
      stream: { models: 8, incidents: 40, eventsPerSecond: 50 },
      // At 1% a 50k stream leaves the detectors a few hundred records. Budgets stay equal: every
      // variant samples the same 10%.
      sampleFraction: 0.1,
      concurrency: 2,
      reportsDir,
      prices: { perEvent: SETTINGS.pricePerEventUsd.default, perEnrichmentCall: SETTINGS.pricePerEnrichmentCallUsd.default, perDetectorCall: SETTINGS.pricePerDetectorCallUsd.default },
      untilIdleMs: 5_000,
      progressBars: false,
      command: 'lab.spec.ts',
      log: () => {},
    });
    json = JSON.parse(await readFile(outcome.files.json, 'utf8')) as Record<string, Record<string, unknown>>;
  });

  it('runs every variant over the whole stream and writes lab.json with a measured row per variant', () => {
    expect(outcome.report.failures, JSON.stringify(outcome.report.failures)).to.deep.equal([]);
    // Only a variant that needs settings model-monitor does not have yet may be skipped, and it says why.
    for (const skipped of outcome.report.skipped) {
      expect(labVariants().find((v) => v.name === skipped.name)?.needs, skipped.name).to.be.a('string');
      expect(skipped.reason, skipped.name).to.match(/model-monitor (has no setting|rejects it)/);
    }
    expect((json['_run']!['skipped'] as unknown[]).length).to.equal(outcome.report.skipped.length);
    // The opt-in experiments (--recalibration) are not in the default run.
    const names = labVariants()
      .filter((v) => v.experiment === undefined)
      .map((v) => v.name)
      .filter((name) => !outcome.report.skipped.some((s) => s.name === name));
    expect(names).to.include.members(['baseline', 'signal-path', 'ceiling']);
    expect(Object.keys(json).filter((k) => k !== '_run')).to.have.members(names);
    for (const result of outcome.report.results) {
      expect(result.summary.consumed, result.variant.name).to.equal(50_000);
      expect(result.summary.spend.counts['ingested-event'], result.variant.name).to.equal(50_000);
      expect(result.summary.spend.counts['detector-call'], result.variant.name).to.be.greaterThan(0);
    }
    for (const name of names) {
      const row = json[name]!;
      expect(Object.keys(row), name).to.have.members(ROW_NAMES);
      for (const field of ALWAYS_MEASURED) expect(row[field], `${name}.${field}`).to.be.a('number').and.satisfy(Number.isFinite);
      const mentions = outcome.report.results.find((r) => r.variant.name === name)!.score.mentions;
      for (const field of ['p50_ms', 'p99_ms']) expect(row[field], `${name}.${field} (${mentions} mentions)`).to.satisfy((v: unknown) => (mentions === 0 ? v === null : Number.isFinite(v)));
      // The labelers labelled every mention once, on one lane or the other.
      expect((row['labels_fast'] as number) + (row['labels_slow'] as number), `${name}: labels of ${mentions} mentions`).to.equal(mentions);
    }
    expect(json['_run']!['spend_ratio_signal_path_to_baseline']).to.be.a('number').and.satisfy(Number.isFinite);
  });

  it('writes lab.md with our figures in every row of the study\'s table, and lab.html with its charts inlined', async () => {
    const markdown = await readFile(outcome.files.markdown, 'utf8');
    const study = markdown.slice(markdown.indexOf('## The study'), markdown.indexOf('## Per component'));
    const rows = study.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| metric'));
    expect(rows.map((row) => row.split('|')[1]!.trim())).to.include.members(['mention rate', 'median latency', 'recall / precision', 'false-positive rate', 'resources']);
    for (const row of rows.filter((r) => !r.includes('latency'))) {
      const ours = row.split('|').slice(4, 6).map((cell) => cell.trim());
      for (const cell of ours) expect(cell, row).to.not.equal('').and.not.equal('n/a');
    }
    for (const { variant } of outcome.report.results) expect(markdown).to.match(new RegExp(`^\\| ${variant.name} \\|`, 'm'));
    const html = await readFile(outcome.files.html, 'utf8');
    for (const id of ['pr', 'cost', 'lanes', 'latency', 'bandit']) expect(html).to.include(`document.getElementById("${id}")`);
    expect(html).to.not.match(/<script src=/); // chart.js is inlined: the page opens offline
  });

  // Measured (incidents found, baseline vs signal-path): with 24 incidents, 6 vs 10, 5 vs 11, 5 vs 11,
  // 6 vs 10 — a margin of 4 to 6; with the 40 of this spec, 8 vs 19, 9 vs 19, 9 vs 15 — a margin of 6
  // to 11. Broker runs are not deterministic (consumer batching, async enrichment), so the margin is
  // what makes this reliable.
  it('signal-path beats the baseline on recall', () => {
    const recall = (name: string): number => json[name]!['recall'] as number;
    expect(recall('signal-path'), `signal-path ${recall('signal-path')} vs baseline ${recall('baseline')}`).to.be.greaterThan(recall('baseline'));
  });
});
