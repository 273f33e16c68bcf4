/**
 * `signalpath shadow-report`: live mentions against each shadow detector's (MODEL_MONITOR_SHADOW_DETECTORS)
 * over one event-time range, judged by labels — agreement, live-only and shadow-only mentions per
 * field, labelled precision with its Wilson interval, and a verdict (promote, hold, regression) by the
 * rule it prints (lab/shadow-report, docs/feedback.md). Prints it and writes <reports>/shadow-report.md
 * and .json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readGroundTruth } from '../lab/generator/index.js';
import { readShadowRun } from '../lab/shadow-report/read-shadow-run.js';
import { shadowReport, shadowReportMarkdown, type ShadowReport } from '../lab/shadow-report/shadow-report.js';
import { ConfigError } from '../runtime/config.js';
import { connectKafka } from './client-settings.js';
import { numberFlag } from './options.js';

export interface ShadowReportFlags {
  topic: string;
  shadowTopic: string;
  labelsTopic: string;
  from?: string;
  to?: string;
  truth?: string;
  slack: string;
  target: string;
  minLabels: string;
  confidence: string;
  reports: string;
  brokers?: string;
}

/** Epoch ms or an ISO-8601 date-time. */
function timeFlag(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = /^-?\d+$/.test(text.trim()) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(value)) throw new ConfigError(`${flag} ${text}: expected epoch milliseconds or an ISO-8601 date-time (2026-01-01T00:00:00Z)`);
  return value;
}

export async function shadowReportCommand(flags: ShadowReportFlags, log: (message: string) => void = (message) => console.log(message)): Promise<ShadowReport> {
  const fromMs = timeFlag('--from', flags.from);
  const toMs = timeFlag('--to', flags.to);
  if (fromMs !== undefined && toMs !== undefined && !(fromMs < toMs)) throw new ConfigError(`--from ${flags.from} must be before --to ${flags.to}`);
  const rule = {
    targetPrecision: numberFlag('--target', flags.target, (x) => x > 0 && x < 1, 'a precision in (0, 1)'),
    minLabels: numberFlag('--min-labels', flags.minLabels, (x) => Number.isInteger(x) && x >= 1, 'a whole number ≥ 1'),
    confidence: numberFlag('--confidence', flags.confidence, (x) => x > 0 && x < 1, 'a confidence in (0, 1), e.g. 0.95'),
  };
  const slackMs = numberFlag('--slack', flags.slack, (x) => Number.isInteger(x) && x >= 0, 'a whole number of ms ≥ 0');
  // Read first: a wrong path fails before anything connects.
  const truth = flags.truth === undefined ? undefined : await readGroundTruth(flags.truth).catch((error: unknown) => {
    throw new ConfigError(`--truth ${flags.truth}: ${(error as Error).message}`);
  });
  const connection = await connectKafka(flags.brokers, log);
  try {
    const run = await readShadowRun(connection.brokers, { live: flags.topic, shadow: flags.shadowTopic, labels: flags.labelsTopic }, connection.clientConfig);
    const report = shadowReport({ ...run, rule, ...(fromMs === undefined ? {} : { fromMs }), ...(toMs === undefined ? {} : { toMs }), ...(truth === undefined ? {} : { incidents: truth.incidents, slackMs }) });
    const markdown = shadowReportMarkdown(report);
    log(markdown);
    await mkdir(flags.reports, { recursive: true });
    await writeFile(path.join(flags.reports, 'shadow-report.md'), markdown);
    await writeFile(path.join(flags.reports, 'shadow-report.json'), `${JSON.stringify(report, null, 2)}\n`);
    log(`written ${path.join(flags.reports, 'shadow-report.md')} and shadow-report.json`);
    return report;
  } finally {
    await connection.close();
  }
}
