/**
 * `signalpath evaluate`: reads a mentions topic from its beginning to its current end, scores the
 * mentions against the ground truth that `signalpath generate --truth` wrote (lab/evaluate), and
 * prints the KPIs (and writes them as JSON with `--json`).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readGroundTruth } from '../lab/generator/index.js';
import { costKpis, formatCost, formatScore, readMentions, readRunSummary, scoreMentions, type MentionScore } from '../lab/evaluate/index.js';
import { ConfigError } from '../runtime/config.js';
import { connectKafka } from './client-settings.js';
import type { ClientConfig } from '../runtime/kafka/client.js';

export interface EvaluateFlags {
  topic: string;
  truth: string;
  brokers?: string;
  since?: string;
  slack: string;
  episodeGap?: string;
  json?: string;
  summary?: string;
}

export async function evaluateTopic(options: { brokers: string; topic: string; truthFile: string; sinceMs?: number; slackMs?: number; episodeGapMs?: number; clientConfig?: ClientConfig }): Promise<MentionScore> {
  const truth = await readGroundTruth(options.truthFile);
  const mentions = await readMentions(options.brokers, options.topic, options.sinceMs, options.clientConfig);
  return scoreMentions(mentions, truth, { slackMs: options.slackMs, episodeGapMs: options.episodeGapMs });
}

export async function evaluateCommand(flags: EvaluateFlags): Promise<void> {
  const slackMs = Number(flags.slack);
  if (!Number.isInteger(slackMs) || slackMs < 0) throw new ConfigError(`--slack ${flags.slack}: expected a whole number of ms ≥ 0`);
  const episodeGapMs = flags.episodeGap === undefined ? undefined : Number(flags.episodeGap);
  if (episodeGapMs !== undefined && (!Number.isInteger(episodeGapMs) || episodeGapMs < 0)) throw new ConfigError(`--episode-gap ${flags.episodeGap}: expected a whole number of ms ≥ 0`);
  const sinceMs = flags.since === undefined ? 0 : Number(flags.since);
  if (!Number.isFinite(sinceMs)) throw new ConfigError(`--since ${flags.since}: expected epoch milliseconds`);
  const log = (message: string): void => console.log(message);
  // Read first: a wrong path fails before anything connects.
  const summary = flags.summary === undefined ? undefined : await readRunSummary(flags.summary).catch((error: unknown) => {
    throw new ConfigError(`--summary ${flags.summary}: ${(error as Error).message}`);
  });
  const connection = await connectKafka(flags.brokers, log);
  const { clientConfig } = connection;
  try {
    const score = await evaluateTopic({ brokers: connection.brokers, topic: flags.topic, truthFile: flags.truth, sinceMs, slackMs, episodeGapMs, clientConfig });
    log(`evaluation of ${flags.topic} against ${flags.truth}`);
    for (const line of formatScore(score)) log(line);
    const cost = summary === undefined ? undefined : costKpis(score, summary);
    if (cost === undefined) log('  spend per $1k, CPU and RSS: pass --summary <file> (written by signalpath run --summary)');
    else for (const line of formatCost(cost, summary!)) log(line);
    if (flags.json !== undefined) {
      await mkdir(path.dirname(path.resolve(flags.json)), { recursive: true });
      await writeFile(flags.json, `${JSON.stringify(cost === undefined ? score : { ...score, ...cost }, null, 2)}\n`);
      log(`  written ${flags.json}`);
    }
  } finally {
    await connection.close();
  }
}
