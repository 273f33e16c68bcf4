/**
 * `signalpath nab`: runs signalpath's detectors over the NAB corpus the way a topology would run
 * them (keyed event-time records through `parallelDetect`), writes NAB-format results, scores them
 * with NAB's rules (threshold optimised per profile over the corpus), and writes the scoreboard
 * beside the published one as Markdown, an HTML chart and `nab.json`.
 *
 * Throughput is measured twice per detector, both on one core (the pass is synchronous JavaScript):
 * through the operator (envelopes, settlement, per-key state lookup, findings) and for the bare
 * detector driven point by point, so the operator's overhead is visible.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createDetector, detectorNames, isDetectorName } from '../../operators/parallel-detect/registry.js';
import { readNabCorpus } from './corpus.js';
import { resolveNabDataDir } from './data-dir.js';
import { scoreDetectorOverCorpus } from './detector-driver.js';
import { evaluateDetector, type ProfileScore } from './evaluate-detector.js';
import { NAB_PROFILE_NAMES, readNabProfiles } from './profiles.js';
import { readPublishedFinalScores, type NabFinalScores } from './published-results.js';
import { writeDetectorResults } from './results-writer.js';
import { buildScoreboard, formatScoreboardMarkdown, formatScoreboardText, toNabFinalScores, type ScoreboardRow } from './scoreboard.js';
import { renderScoreboardHtml } from './scoreboard-chart.js';
import { buildCorpusScoringLayouts } from './scoring-layout.js';
import { streamCorpusThroughParallelDetect } from './stream-corpus.js';
import type { NabCorpus } from './types.js';

export interface RunNabOptions {
  /** Root of the NAB-format results (`<outDir>/<detector>/<category>/<detector>_<file>.csv`). Required. */
  readonly outDir: string;
  /** Folder for `nab.md`, `nab.html` and `nab.json`. Required. */
  readonly reportsDir: string;
  /** Registry names of the detectors to run, at least one. Default: every registered detector. */
  readonly detectors?: readonly string[];
  /** The NAB folder. Default: {@link resolveNabDataDir}. */
  readonly dataDir?: string;
  /** Only these data files (relative paths, e.g. `realKnownCause/nyc_taxi.csv`). Default: the whole corpus. */
  readonly files?: readonly string[];
  /** Where progress lines go. Default: nowhere. */
  readonly log?: (line: string) => void;
  /** The command line, quoted in the reports. Default `signalpath nab`. */
  readonly command?: string;
}

/** Points per second of one detector over the corpus. */
export interface NabThroughput {
  readonly detector: string;
  readonly points: number;
  /** Through `parallelDetect` (envelopes in, detections out). */
  readonly pipelinePointsPerSecond: number;
  /** The bare detector, point by point. */
  readonly detectorPointsPerSecond: number;
}

export interface NabRunResult {
  /** Per detector, per profile: threshold, raw and normalised score. */
  readonly evaluations: Readonly<Record<string, Readonly<Record<string, ProfileScore>>>>;
  /** Our scores in NAB's final_results.json shape (what `nab.json` holds). */
  readonly finalScores: NabFinalScores;
  readonly scoreboard: readonly ScoreboardRow[];
  readonly throughput: readonly NabThroughput[];
  readonly reportFiles: { readonly markdown: string; readonly html: string; readonly json: string };
  /** Results CSVs written, per detector. */
  readonly resultFiles: Readonly<Record<string, readonly string[]>>;
}

/**
 * Runs the whole evaluation and writes every output.
 *
 * @throws RangeError naming the detector when one is not registered (before any work is done);
 *   Error when the corpus cannot be read or a requested file is not in it.
 */
export async function runNab(options: RunNabOptions): Promise<NabRunResult> {
  const detectors = options.detectors ?? detectorNames;
  if (detectors.length === 0) throw new RangeError(`nab: no detectors given (accepted: ${detectorNames.join(', ')})`);
  for (const name of detectors) {
    if (!isDetectorName(name)) throw new RangeError(`nab: unknown detector '${name}' (accepted: ${detectorNames.join(', ')})`);
  }
  const log = options.log ?? ((): void => {});
  const dataDir = options.dataDir ?? resolveNabDataDir();
  const [fullCorpus, profiles, published] = await Promise.all([
    readNabCorpus(dataDir),
    readNabProfiles(dataDir),
    readPublishedFinalScores(dataDir),
  ]);
  const corpus = selectFiles(fullCorpus, options.files);
  const layouts = buildCorpusScoringLayouts(corpus);
  const points = corpus.files.reduce((sum, file) => sum + file.values.length, 0);
  log(`NAB corpus: ${corpus.files.length} files, ${points.toLocaleString('en')} points (${dataDir})`);

  const evaluations: Record<string, Record<string, ProfileScore>> = {};
  const throughput: NabThroughput[] = [];
  const resultFiles: Record<string, string[]> = {};
  for (const name of detectors) {
    const streamed = await streamCorpusThroughParallelDetect(corpus, name, (o) => createDetector(name, o));
    const bareStartedAt = performance.now();
    scoreDetectorOverCorpus(corpus, () => createDetector(name));
    const bareMs = performance.now() - bareStartedAt;
    resultFiles[name] = await writeDetectorResults(options.outDir, name, corpus, streamed.scores);
    evaluations[name] = evaluateDetector(layouts, streamed.scores, profiles);
    const rate = {
      detector: name,
      points: streamed.points,
      pipelinePointsPerSecond: streamed.points / (Math.max(streamed.elapsedMs, 1e-3) / 1000),
      detectorPointsPerSecond: points / (Math.max(bareMs, 1e-3) / 1000),
    };
    throughput.push(rate);
    const standard = evaluations[name]['standard']?.normalizedScore;
    log(
      `  ${name.padEnd(20)} standard ${standard === undefined ? '—' : standard.toFixed(2).padStart(6)}` +
        `   ${formatRate(rate.pipelinePointsPerSecond)} points/s through parallelDetect, ${formatRate(rate.detectorPointsPerSecond)} bare`,
    );
  }

  const finalScores = toNabFinalScores(evaluations);
  const scoreboard = buildScoreboard(finalScores, published);
  const command = options.command ?? 'signalpath nab';
  const subset = corpus.files.length === fullCorpus.files.length ? '' : ` (subset: ${corpus.files.length} of ${fullCorpus.files.length} files)`;
  await mkdir(options.reportsDir, { recursive: true });
  const reportFiles = {
    markdown: path.join(options.reportsDir, 'nab.md'),
    html: path.join(options.reportsDir, 'nab.html'),
    json: path.join(options.reportsDir, 'nab.json'),
  };
  await writeFile(reportFiles.json, JSON.stringify(finalScores, null, 2) + '\n');
  await writeFile(reportFiles.markdown, formatMarkdownReport(command, subset, scoreboard, evaluations, throughput));
  await writeFile(
    reportFiles.html,
    renderScoreboardHtml(scoreboard, {
      title: 'NAB scoreboard: signalpath detectors beside the published ones',
      subtitle: `${command}${subset} — NAB v1.1, thresholds optimised per profile over the corpus; ${new Date().toISOString().slice(0, 10)}`,
      notes: throughput.map(
        (t) => `${t.detector}: ${formatRate(t.pipelinePointsPerSecond)} points/s through parallelDetect, ${formatRate(t.detectorPointsPerSecond)} bare (one core)`,
      ),
    }),
  );
  return { evaluations, finalScores, scoreboard, throughput, reportFiles, resultFiles };
}

/** The terminal summary: the scoreboard, then throughput per detector. */
export function formatNabRunText(result: Pick<NabRunResult, 'scoreboard' | 'throughput'>): string {
  return `${formatScoreboardText(result.scoreboard)}\n${formatThroughputText(result.throughput)}`;
}

function formatThroughputText(throughput: readonly NabThroughput[]): string {
  const width = Math.max(8, ...throughput.map((t) => t.detector.length));
  const lines = [`${'detector'.padEnd(width)}  points/s (parallelDetect)  points/s (bare detector)   [one core, whole corpus]`];
  for (const t of throughput) {
    lines.push(`${t.detector.padEnd(width)}  ${formatRate(t.pipelinePointsPerSecond).padStart(25)}  ${formatRate(t.detectorPointsPerSecond).padStart(23)}`);
  }
  return lines.join('\n') + '\n';
}

function formatMarkdownReport(
  command: string,
  subset: string,
  scoreboard: readonly ScoreboardRow[],
  evaluations: Readonly<Record<string, Readonly<Record<string, ProfileScore>>>>,
  throughput: readonly NabThroughput[],
): string {
  const lines = [
    '# NAB scoreboard',
    '',
    `\`${command}\`${subset}, ${new Date().toISOString().slice(0, 10)}. NAB v1.1 corpus and labels, scored with NAB's rules`,
    "(scaled sigmoid, probationary period, the three profiles, normalised against the null and perfect detectors),",
    "each detector's threshold optimised per profile over the corpus. Our detectors are in bold.",
    '',
    formatScoreboardMarkdown(scoreboard),
    '## Thresholds chosen',
    '',
    `| Detector | ${NAB_PROFILE_NAMES.join(' | ')} |`,
    `| :--- | ${NAB_PROFILE_NAMES.map(() => '---:').join(' | ')} |`,
    ...Object.entries(evaluations).map(
      ([detector, byProfile]) => `| ${detector} | ${NAB_PROFILE_NAMES.map((p) => byProfile[p]?.threshold.toFixed(6) ?? '—').join(' | ')} |`,
    ),
    '',
    '## Throughput (one core, whole corpus)',
    '',
    '| Detector | Points | Points/s through parallelDetect | Points/s bare detector |',
    '| :--- | ---: | ---: | ---: |',
    ...throughput.map(
      (t) => `| ${t.detector} | ${t.points.toLocaleString('en')} | ${formatRate(t.pipelinePointsPerSecond)} | ${formatRate(t.detectorPointsPerSecond)} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

function formatRate(pointsPerSecond: number): string {
  return Math.round(pointsPerSecond).toLocaleString('en');
}

function selectFiles(corpus: NabCorpus, files: readonly string[] | undefined): NabCorpus {
  if (files === undefined) return corpus;
  const known = new Set(corpus.files.map((file) => file.relativePath));
  const unknown = files.filter((file) => !known.has(file));
  if (unknown.length > 0) throw new Error(`nab: not in the corpus: ${unknown.join(', ')}`);
  const wanted = new Set(files);
  return { dataDir: corpus.dataDir, files: corpus.files.filter((file) => wanted.has(file.relativePath)) };
}
