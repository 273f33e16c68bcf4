/**
 * `signalpath lab`: one generated stream on one broker, the model registry started and stopped, and
 * every variant (variants.ts) as its own `signalpath run model-monitor` child process — its own
 * consumer group over the same input topic, its own mentions topics — a few at a time. Each variant
 * is scored as it finishes (mentions against the ground truth, spend/CPU/RSS from its run summary);
 * at the end reports/lab.md, reports/lab.html and reports/lab.json are written.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { startModelRegistry } from '../model-registry/index.js';
import { readMentions, readRunSummary } from '../evaluate/index.js';
import { generateToTopic, readGroundTruth, type StreamOptions } from '../generator/index.js';
import type { Mention } from '../../schemas/index.js';
import type { UnitPricesUsd } from '../../runtime/cost/spend-meter.js';
import type { ClientConfig } from '../../runtime/kafka/client.js';
import { collapsedGroups, labJson, type LabReport } from './lab-report.js';
import { renderLabHtml } from './report-html.js';
import { renderLabMarkdown } from './report-markdown.js';
import { caughtUp, runLabeler, type LabelerOutcome } from '../labeler/run-labeler.js';
import { runVariant } from './run-variant.js';
import { unsupportedReason } from './variant-support.js';
import { variantResult, type VariantResult } from './variant-result.js';
import { labVariants, type LabVariant } from './variants.js';
import type { GivenLabel } from './recalibration-track.js';
import { recalibrationSummary } from './recalibration-report.js';
import { SKETCH_DETECTOR } from '../../topologies/model-monitor/sketch-evidence.js';

export interface LabOptions {
  readonly brokers: string;
  readonly events: number;
  readonly seed: number;
  /** Generator shape beyond count and seed (profile, models, incidents, event rate); default the generator's. */
  readonly stream?: Pick<StreamOptions, 'profile' | 'models' | 'incidents' | 'eventsPerSecond'>;
  /** Share of the input every variant samples (equal budgets). */
  readonly sampleFraction: number;
  /** Variant processes at once (the machine's cores bound it). */
  readonly concurrency: number;
  /** Variant names to run; default all but the opt-in experiments. */
  readonly only?: readonly string[];
  /** Add the recalibration experiment's variants (variants.ts) to the run. Default false. */
  readonly recalibration?: boolean;
  /** Folder of lab.md, lab.html, lab.json; per-variant summaries and logs go to `<dir>/lab/`. */
  readonly reportsDir: string;
  readonly prices: UnitPricesUsd;
  /** How long a variant's input must be idle before it ends, ms. */
  readonly untilIdleMs: number;
  /** Progress bars on the terminal (cli-progress); otherwise log lines. */
  readonly progressBars: boolean;
  readonly command: string;
  readonly log: (message: string) => void;
  /**
   * Client settings (SIGNALPATH_KAFKA_*) for the lab's own clients: the generator and the mention
   * readers. The variant processes inherit the environment and read the same variables themselves.
   */
  readonly clientConfig?: ClientConfig;
}

export interface LabOutcome {
  readonly report: LabReport;
  readonly files: { readonly markdown: string; readonly html: string; readonly json: string };
}

export async function runLab(options: LabOptions): Promise<LabOutcome> {
  const startedAt = Date.now();
  const variants = selectVariants(labVariants(options.sampleFraction), options.only, options.recalibration === true);
  const workDir = path.join(options.reportsDir, 'lab');
  await mkdir(workDir, { recursive: true });
  const prefix = `lab-${startedAt}`;
  const input = `${prefix}.inference-events`;
  const truthFile = path.join(workDir, 'truth.jsonl');
  const progress = createProgress(options, variants);

  const registry = await startModelRegistry({ port: 0, seed: options.seed });
  try {
    progress.log(`model registry at ${registry.url}; generating ${options.events.toLocaleString('en')} events to ${input}`);
    const truth = await generateToTopic({ ...options.stream, count: options.events, seed: options.seed, brokers: options.brokers, clientConfig: options.clientConfig, topic: input, truthFile, onProgress: (n) => progress.generated(n) });
    progress.generated(options.events);

    const results: VariantResult[] = [];
    const failures: { name: string; error: string }[] = [];
    const skipped: { name: string; reason: string }[] = [];
    const queue: LabVariant[] = [];
    for (const variant of variants) {
      const reason = unsupportedReason(variant);
      if (reason === undefined) queue.push(variant);
      else if (variant.needs !== undefined) skipped.push({ name: variant.name, reason: `needs ${variant.needs}: ${reason}` });
      else failures.push({ name: variant.name, error: reason });
    }
    for (const s of skipped) progress.evaluated(`${s.name} skipped: ${s.reason}`);
    for (const f of failures) progress.evaluated(`${f.name} FAILED: ${f.error}`);
    const worker = async (): Promise<void> => {
      for (let variant = queue.shift(); variant !== undefined; variant = queue.shift()) {
        const topics = { input, mentions: `${prefix}.${variant.name}.mentions`, review: `${prefix}.${variant.name}.mentions.review`, dlq: `${prefix}.${variant.name}.dlq` };
        const summaryFile = path.join(workDir, `${variant.name}.summary.json`);
        // The lab's labelers follow the variant's two lanes while it runs (lab/labeler): its labels
        // reach model-monitor's feedback KPIs, and their latency per lane goes into the report.
        const labelsTopic = `${prefix}.${variant.name}.labels`;
        const stopLabeler = new AbortController();
        let slowLaneRead = 0;
        // Every label given, with its mention's model and field: the recalibration experiment replays the levels from them.
        const given: GivenLabel[] = [];
        let variantStopped = false;
        const labeling = runLabeler({
          lanes: variant.labelLanes === 'slow' ? ['slow'] : ['fast', 'slow'],
          onLabel: (label, mention, lane) => {
            const detectors = (mention.attributes['detectors'] ?? mention.detector).split(',');
            given.push({ mention_id: label.mention_id, labeled_at: label.labeled_at, verdict: label.verdict, lane, model: mention.model_id, field: mention.field, sketch: detectors.includes(SKETCH_DETECTOR), ...(variantStopped ? { after_run: true } : {}) });
          },
          onRead: (lane, records) => {
            if (lane === 'slow') slowLaneRead = records;
          },
          brokers: options.brokers,
          ...(options.clientConfig === undefined ? {} : { clientConfig: options.clientConfig }),
          truth,
          topics: { fast: topics.review, slow: topics.mentions, labels: labelsTopic },
          flushAtEnd: true,
          signal: stopLabeler.signal,
          log: () => {},
        }).catch(async (error: unknown) => {
          progress.evaluated(`${variant.name}: labelers failed: ${(error as Error).message}`);
          await writeFile(path.join(workDir, `${variant.name}.labeler-error.txt`), `${(error as Error).stack ?? String(error)}\n`);
          return undefined;
        });
        try {
          await runVariant({
            variant,
            brokers: options.brokers,
            group: `${prefix}.${variant.name}`,
            topics,
            registryUrl: registry.url,
            summaryFile,
            logFile: path.join(workDir, `${variant.name}.log`),
            env: { ...priceEnv(options.prices), MODEL_MONITOR_LABELS_TOPIC: labelsTopic },
            untilIdleMs: options.untilIdleMs,
            onConsumed: (n) => progress.consumed(variant.name, n),
          });
          variantStopped = true;
          const summary = await readRunSummary(summaryFile);
          progress.consumed(variant.name, summary.consumed);
          const mentions = await readMentions(options.brokers, topics.mentions, 0, options.clientConfig);
          // The stream is over: let the labelers read every mention, then end with a last batch.
          if (!(await caughtUp(() => slowLaneRead >= mentions.length, 60_000))) progress.evaluated(`${variant.name}: the labelers read ${slowLaneRead} of ${mentions.length} mentions within 60 s`);
          await new Promise((resolve) => setTimeout(resolve, 500));
          stopLabeler.abort();
          const labels = await labeling;
          // Kept beside the summary, so that the reports can be rendered again without the broker.
          await writeFile(path.join(workDir, `${variant.name}.mentions.json`), JSON.stringify(mentions));
          if (labels !== undefined) await writeFile(path.join(workDir, `${variant.name}.labels.json`), JSON.stringify(labels));
          await writeFile(path.join(workDir, `${variant.name}.labels-given.json`), JSON.stringify(given));
          results.push(variantResult(variant, mentions, truth, summary, labels, given));
          progress.evaluated(`${variant.name}: ${mentions.length} mentions, ${summary.consumed.toLocaleString('en')} consumed`);
        } catch (error) {
          stopLabeler.abort();
          await labeling;
          failures.push({ name: variant.name, error: (error as Error).message });
          progress.evaluated(`${variant.name} FAILED: ${(error as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency, variants.length) }, worker));
    progress.stop();

    // Report in the variants' own order, whatever order they finished in.
    const meta: LabRunMeta = {
      command: options.command,
      startedAt: new Date(startedAt).toISOString(),
      elapsedMs: Date.now() - startedAt,
      events: options.events,
      seed: options.seed,
      sampleFraction: options.sampleFraction,
      prices: options.prices,
      variants: variants.map((v) => v.name),
      failures,
      skipped,
      ...(options.stream?.profile === undefined ? {} : { profile: options.stream.profile }),
    };
    await writeFile(path.join(workDir, 'run.json'), `${JSON.stringify(meta, null, 2)}\n`);
    const ordered = variants.flatMap((v) => results.filter((r) => r.variant.name === v.name));
    return await writeLabReports(options.reportsDir, meta, truth.incidents.length, ordered);
  } finally {
    progress.stop();
    await registry.stop();
  }
}

/** What a lab run was, written to `<reports>/lab/run.json` for re-rendering. */
interface LabRunMeta {
  readonly command: string;
  readonly startedAt: string;
  readonly elapsedMs: number;
  readonly events: number;
  readonly seed: number;
  readonly sampleFraction: number;
  readonly prices: UnitPricesUsd;
  readonly variants: readonly string[];
  readonly failures: readonly { name: string; error: string }[];
  /** Variants not run because model-monitor does not accept their settings yet (absent in older runs). */
  readonly skipped?: readonly { name: string; reason: string }[];
  /** The generator's stream profile, when not the default. */
  readonly profile?: string;
}

async function writeLabReports(reportsDir: string, meta: LabRunMeta, incidents: number, results: readonly VariantResult[]): Promise<LabOutcome> {
  const collapsed = collapsedGroups(results);
  const tracked = results.flatMap((r) => (r.recalibration === undefined ? [] : [{ variant: r.variant, track: r.recalibration }]));
  const recalibration = recalibrationSummary(tracked);
  const report: LabReport = { ...meta, skipped: meta.skipped ?? [], incidents, results, collapsedGroups: collapsed.groups, collapsedShare: collapsed.share, ...(recalibration === undefined ? {} : { recalibration }) };
  const files = {
    markdown: path.join(reportsDir, 'lab.md'),
    html: path.join(reportsDir, 'lab.html'),
    json: path.join(reportsDir, 'lab.json'),
  };
  const markdown = renderLabMarkdown(report);
  await writeFile(files.markdown, markdown);
  await writeFile(files.html, await renderLabHtml(report, markdown));
  await writeFile(files.json, `${JSON.stringify(labJson(report), null, 2)}\n`);
  return { report, files };
}

/**
 * Renders the reports again from what a finished run left in `<reportsDir>/lab/` (ground truth, each
 * variant's summary and mentions) — no broker, no re-run: `signalpath lab --render-only`.
 */
export async function renderLabFromRun(reportsDir: string): Promise<LabOutcome> {
  const workDir = path.join(reportsDir, 'lab');
  const meta = JSON.parse(await readFile(path.join(workDir, 'run.json'), 'utf8')) as LabRunMeta;
  const truth = await readGroundTruth(path.join(workDir, 'truth.jsonl'));
  const results: VariantResult[] = [];
  const notRun = new Set([...meta.failures.map((f) => f.name), ...(meta.skipped ?? []).map((s) => s.name)]);
  for (const variant of labVariants(meta.sampleFraction).filter((v) => meta.variants.includes(v.name) && !notRun.has(v.name))) {
    const summary = await readRunSummary(path.join(workDir, `${variant.name}.summary.json`));
    const mentions = JSON.parse(await readFile(path.join(workDir, `${variant.name}.mentions.json`), 'utf8')) as Mention[];
    const labels = await readFile(path.join(workDir, `${variant.name}.labels.json`), 'utf8').then((text) => JSON.parse(text) as LabelerOutcome, () => undefined);
    const given = await readFile(path.join(workDir, `${variant.name}.labels-given.json`), 'utf8').then((text) => JSON.parse(text) as GivenLabel[], () => undefined);
    results.push(variantResult(variant, mentions, truth, summary, labels, given));
  }
  return writeLabReports(reportsDir, meta, truth.incidents.length, results);
}

/** The variants named in `only`; without it, every variant but the opt-in experiments' (unless `recalibration`). */
function selectVariants(all: LabVariant[], only: readonly string[] | undefined, recalibration: boolean): LabVariant[] {
  const unknown = (only ?? []).filter((name) => !all.some((v) => v.name === name));
  if (unknown.length > 0) throw new RangeError(`--only ${unknown.join(',')}: unknown variant; the variants are ${all.map((v) => v.name).join(', ')}`);
  const named = (v: LabVariant): boolean => (only === undefined || only.length === 0 ? v.experiment === undefined : only.includes(v.name));
  return all.filter((v) => named(v) || (recalibration && v.experiment === 'recalibration'));
}

function priceEnv(prices: UnitPricesUsd): Record<string, string> {
  return {
    SIGNALPATH_PRICE_PER_EVENT_USD: String(prices.perEvent),
    SIGNALPATH_PRICE_PER_ENRICHMENT_CALL_USD: String(prices.perEnrichmentCall),
    SIGNALPATH_PRICE_PER_DETECTOR_CALL_USD: String(prices.perDetectorCall),
    // The lab's summaries are its metrics; no variant serves /metrics (they would fight over one port).
    SIGNALPATH_METRICS_PORT: '0',
  };
}

interface Progress {
  log(message: string): void;
  generated(written: number): void;
  consumed(variant: string, consumed: number): void;
  evaluated(message: string): void;
  stop(): void;
}

/** Bars for generation, each variant's consumed records against the input's end, and evaluation; or log lines. */
function createProgress(options: LabOptions, variants: readonly LabVariant[]): Progress {
  if (!options.progressBars) {
    let lastGeneratedDecile = -1;
    let evaluated = 0;
    return {
      log: options.log,
      generated: (n) => {
        const decile = Math.floor((10 * n) / options.events);
        if (decile !== lastGeneratedDecile) options.log(`generated ${n.toLocaleString('en')} / ${options.events.toLocaleString('en')}`);
        lastGeneratedDecile = decile;
      },
      consumed: () => {},
      evaluated: (message) => options.log(`[${++evaluated}/${variants.length}] ${message}`),
      stop: () => {},
    };
  }
  const multi = new cliProgress.MultiBar(
    { format: ' {name} |{bar}| {percentage}% · {value}/{total} {note}', hideCursor: true, clearOnComplete: false, stopOnComplete: false, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  const pad = (name: string): string => name.padEnd(20);
  const generation = multi.create(options.events, 0, { name: pad('generate'), note: '' });
  const bars = new Map(variants.map((v) => [v.name, multi.create(options.events, 0, { name: pad(v.name), note: 'consumed' })]));
  const evaluation = multi.create(variants.length, 0, { name: pad('evaluate'), note: 'variants' });
  let stopped = false;
  return {
    log: (message) => multi.log(`${message}\n`),
    generated: (n) => generation.update(n),
    consumed: (name, n) => bars.get(name)?.update(Math.min(n, options.events)),
    evaluated: (message) => {
      evaluation.increment();
      multi.log(`${message}\n`);
    },
    stop: () => {
      if (!stopped) multi.stop();
      stopped = true;
    },
  };
}
