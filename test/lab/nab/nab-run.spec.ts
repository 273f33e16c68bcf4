import { expect } from 'chai';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  evaluateDetector,
  buildCorpusScoringLayouts,
  readDetectorResults,
  scoreDetectorOverCorpus,
  type NabCorpus,
} from '../../../lab/nab/index.js';
import { formatNabTimestamp, NAB_RESULTS_HEADER, windowLabels } from '../../../lab/nab/results-writer.js';
import { runNab, type NabRunResult } from '../../../lab/nab/run-nab.js';
import { renderScoreboardHtml } from '../../../lab/nab/scoreboard-chart.js';
import { streamCorpusThroughParallelDetect } from '../../../lab/nab/stream-corpus.js';
import { createDetector } from '../../../operators/parallel-detect/index.js';
import { loadNabFixture } from './nab-fixture.js';

// A small, varied subset: a real file with windows, an artificial one with a window, one without.
const SUBSET = [
  'artificialNoAnomaly/art_daily_no_noise.csv',
  'artificialWithAnomaly/art_daily_jumpsup.csv',
  'realKnownCause/ambient_temperature_system_failure.csv',
];
const DETECTORS = ['ewma-zscore', 'adwin'];

describe('signalpath nab (lab/nab/run-nab)', () => {
  let outRoot: string;
  let result: NabRunResult;
  let subset: NabCorpus;

  before(async () => {
    const fixture = await loadNabFixture();
    subset = { dataDir: fixture.dataDir, files: fixture.corpus.files.filter((f) => SUBSET.includes(f.relativePath)) };
    outRoot = await mkdtemp(path.join(tmpdir(), 'signalpath-nab-'));
    result = await runNab({
      outDir: path.join(outRoot, 'results'),
      reportsDir: path.join(outRoot, 'reports'),
      detectors: DETECTORS,
      dataDir: fixture.dataDir,
      files: SUBSET,
    });
  });

  after(async () => {
    if (outRoot !== undefined) await rm(outRoot, { recursive: true, force: true });
  });

  it('writes one results CSV per data file and detector, at <out>/<detector>/<category>/<detector>_<file>', async () => {
    for (const detector of DETECTORS) {
      const written: string[] = [];
      for (const category of await readdir(path.join(outRoot, 'results', detector))) {
        for (const name of await readdir(path.join(outRoot, 'results', detector, category))) written.push(`${category}/${name}`);
      }
      expect(written.sort()).to.deep.equal(
        SUBSET.map((p) => `${path.posix.dirname(p)}/${detector}_${path.posix.basename(p)}`).sort(),
      );
    }
  });

  it('writes the header, the data file timestamps verbatim, scores in [0, 1] and window labels', async () => {
    for (const file of subset.files) {
      const source = (await readFile(path.join(subset.dataDir, 'data', file.relativePath), 'utf8')).trim().split('\n');
      const written = (await readFile(path.join(outRoot, 'results', 'adwin', file.category, `adwin_${file.fileName}`), 'utf8')).trim().split('\n');
      expect(written[0]).to.equal(NAB_RESULTS_HEADER);
      expect(written).to.have.length(source.length);
      const labels = windowLabels(file);
      for (let row = 1; row < written.length; row++) {
        const [timestamp, value, score, label] = written[row]!.split(',');
        const [sourceTimestamp, sourceValue] = source[row]!.split(',');
        expect(timestamp).to.equal(sourceTimestamp).and.match(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
        expect(Number(value)).to.equal(Number(sourceValue));
        expect(Number(score)).to.be.within(0, 1);
        expect(label).to.equal(String(labels[row - 1]));
      }
      if (file.windows.length > 0) expect(labels.includes(1)).to.equal(true);
    }
  });

  it('writes files that score exactly as the scores in memory (NAB tools can read them back)', async () => {
    const fixture = await loadNabFixture();
    const layouts = buildCorpusScoringLayouts(subset);
    for (const detector of DETECTORS) {
      const readBack = await readDetectorResults(path.join(outRoot, 'results'), detector, subset);
      const rescored = evaluateDetector(layouts, readBack, fixture.profiles);
      for (const [profile, score] of Object.entries(result.evaluations[detector]!)) {
        expect(rescored[profile]!.normalizedScore).to.equal(score.normalizedScore);
      }
    }
  });

  it('writes nab.json in the shape of final_results.json, and only that', async () => {
    const json = JSON.parse(await readFile(result.reportFiles.json, 'utf8')) as Record<string, Record<string, unknown>>;
    expect(Object.keys(json)).to.deep.equal(DETECTORS);
    for (const scores of Object.values(json)) {
      expect(Object.keys(scores).sort()).to.deep.equal(['reward_low_FN_rate', 'reward_low_FP_rate', 'standard']);
      for (const value of Object.values(scores)) expect(value).to.be.a('number').and.satisfy(Number.isFinite);
    }
    expect(json).to.deep.equal(result.finalScores);
  });

  it('writes a Markdown scoreboard and a self-contained HTML chart with ours beside the published', async () => {
    const markdown = await readFile(result.reportFiles.markdown, 'utf8');
    expect(markdown).to.contain('| **adwin** | ours |').and.contain('| numenta | published |');
    const html = await readFile(result.reportFiles.html, 'utf8');
    expect(html).to.contain('<svg').and.contain('>adwin</text>').and.contain('>numenta</text>');
    // Nothing fetched: no scripts, no external references (the SVG namespace is an identifier, not a fetch).
    expect(html.replace('xmlns="http://www.w3.org/2000/svg"', '')).not.to.match(/https?:|<script|<link|src=/i);
    const labels = [...result.scoreboard.map((row) => row.detector)];
    expect(result.scoreboard.filter((row) => row.source === 'ours').map((row) => row.detector).sort()).to.deep.equal([...DETECTORS].sort());
    expect(labels).to.include('numenta');
  });

  it('reports points per second for every detector', () => {
    expect(result.throughput.map((t) => t.detector)).to.deep.equal(DETECTORS);
    const points = subset.files.reduce((sum, f) => sum + f.values.length, 0);
    for (const t of result.throughput) {
      expect(t.points).to.equal(points);
      expect(t.pipelinePointsPerSecond).to.be.greaterThan(0);
      expect(t.detectorPointsPerSecond).to.be.greaterThan(0);
    }
  });

  it('scores through parallelDetect exactly as the bare detector driven point by point', async () => {
    for (const name of ['mad', 'half-space-trees']) {
      const streamed = await streamCorpusThroughParallelDetect(subset, name, (o) => createDetector(name, o));
      const bare = scoreDetectorOverCorpus(subset, () => createDetector(name));
      expect(streamed.scores).to.deep.equal(bare);
    }
  });

  it('rejects an unknown detector before doing any work', async () => {
    let error: unknown;
    try {
      await runNab({ outDir: outRoot, reportsDir: outRoot, detectors: ['nope'] });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(RangeError).with.property('message').that.contains("unknown detector 'nope'");
  });

  it('formats timestamps as NAB does, and escapes names in the chart', () => {
    expect(formatNabTimestamp(Date.UTC(2014, 6, 1, 0, 30, 5))).to.equal('2014-07-01 00:30:05');
    const html = renderScoreboardHtml(
      [{ detector: '<x&y>', source: 'ours', scores: { standard: -12, reward_low_FP_rate: 5, reward_low_FN_rate: 101 } }],
      { title: 't' },
    );
    expect(html).to.contain('&lt;x&amp;y&gt;').and.not.contain('<x&y>');
  });
});
