/**
 * `signalpath lab`: the signal-path experiment (lab/lab-run) on one generated stream and one broker —
 * local unless --brokers / KAFKA_BROKERS — with the baseline, the signal-path topology and one
 * ablation per component as separate model-monitor processes; writes reports/lab.{md,html,json}.
 */
import { ConfigError, readPrices } from '../runtime/config.js';
import { labVariants, renderLabFromRun, runLab } from '../lab/lab-run/index.js';
import { connectKafka } from './client-settings.js';
import { parseProfile } from './generate-command.js';

export interface LabFlags {
  events: string;
  seed: string;
  profile?: string;
  sampleFraction: string;
  concurrency: string;
  only?: string;
  recalibration?: boolean;
  reports: string;
  untilIdle: string;
  brokers?: string;
  pricePerEvent?: string;
  pricePerEnrichmentCall?: string;
  pricePerDetectorCall?: string;
  models?: string;
  incidents?: string;
  eventsPerSecond?: string;
  renderOnly?: boolean;
  progress: boolean;
}

function wholeNumber(flag: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new ConfigError(`${flag} ${raw}: expected a whole number in [${min}, ${max}]`);
  return value;
}

export async function labCommand(flags: LabFlags): Promise<void> {
  if (flags.renderOnly === true) {
    const { report, files } = await renderLabFromRun(flags.reports);
    console.log(`rendered ${report.results.length} variants of the run in ${flags.reports}/lab/: ${files.markdown}, ${files.html}, ${files.json}`);
    return;
  }
  // Everything is checked before the broker starts.
  const events = wholeNumber('--events', flags.events, 1000, 100_000_000);
  const seed = wholeNumber('--seed', flags.seed, -(2 ** 31), 2 ** 31 - 1);
  const concurrency = wholeNumber('--concurrency', flags.concurrency, 1, 8);
  const untilIdleMs = wholeNumber('--until-idle', flags.untilIdle, 1000, 600_000);
  const sampleFraction = Number(flags.sampleFraction);
  if (!(sampleFraction > 0 && sampleFraction <= 1)) throw new ConfigError(`--sample-fraction ${flags.sampleFraction}: expected a number in (0, 1], e.g. 0.01`);
  const prices = readPrices(flags, process.env);
  const eventsPerSecond = flags.eventsPerSecond === undefined ? undefined : Number(flags.eventsPerSecond);
  if (eventsPerSecond !== undefined && !(eventsPerSecond > 0)) throw new ConfigError(`--events-per-second ${flags.eventsPerSecond}: expected a number > 0`);
  const profile = parseProfile(flags.profile);
  const stream = {
    ...(profile === 'default' ? {} : { profile }),
    ...(flags.models === undefined ? {} : { models: wholeNumber('--models', flags.models, 1, 100_000) }),
    ...(flags.incidents === undefined ? {} : { incidents: wholeNumber('--incidents', flags.incidents, 0, 1_000_000) }),
    ...(eventsPerSecond === undefined ? {} : { eventsPerSecond }),
  };
  const only = flags.only?.split(',').map((s) => s.trim()).filter(Boolean);
  const names = labVariants().map((v) => v.name);
  const unknown = (only ?? []).filter((name) => !names.includes(name));
  if (unknown.length > 0) throw new ConfigError(`--only ${unknown.join(',')}: unknown variant; the variants are ${names.join(', ')}`);
  const log = (message: string): void => console.log(message);
  const connection = await connectKafka(flags.brokers, log);
  try {
    const { report, files } = await runLab({
      brokers: connection.brokers,
      ...(connection.clientConfig === undefined ? {} : { clientConfig: connection.clientConfig }),
      events,
      seed,
      stream,
      sampleFraction,
      concurrency,
      only,
      recalibration: flags.recalibration === true,
      reportsDir: flags.reports,
      prices,
      untilIdleMs,
      progressBars: flags.progress && process.stdout.isTTY === true,
      command: `signalpath lab ${process.argv.slice(3).join(' ')}`.trim(),
      log,
    });
    log('');
    log(`lab done in ${(report.elapsedMs / 60_000).toFixed(1)} min: ${report.results.length} variants measured, ${report.failures.length} failed`);
    log(`reports: ${files.markdown}, ${files.html}, ${files.json}`);
    if (report.failures.length > 0) process.exitCode = 1;
  } finally {
    await connection.close();
  }
}
