/**
 * `signalpath label`: the lab's labeler on its own, against any broker — it follows `mentions.review`
 * (fast lane) and `mentions` (slow lane), decides each label from a ground-truth file of
 * `signalpath generate`, and writes Label records to `labels` (lab/labeler).
 */
import { readGroundTruth } from '../lab/generator/index.js';
import { runLabeler } from '../lab/labeler/run-labeler.js';
import { ConfigError } from '../runtime/config.js';
import { numberFlag } from './options.js';
import { connectKafka } from './client-settings.js';

export interface LabelFlags {
  truth: string;
  fastTopic: string;
  slowTopic: string;
  labelsTopic: string;
  shadowTopic: string;
  shadowShare: string;
  fastDelay: string;
  slowBatch: string;
  capacity: string;
  unsure: string;
  wrong: string;
  seed: string;
  untilIdle?: string;
  flush?: boolean;
  brokers?: string;
}

/** `a,b` → [a, b] in ms from a list in `unit` (1 = ms). */
function rangeFlag(flag: string, text: string, unitMs: number): [number, number] {
  const parts = text.split(',').map((part) => Number(part.trim()));
  const [min, max] = parts.length === 1 ? [parts[0]!, parts[0]!] : parts;
  if (parts.length > 2 || !Number.isFinite(min) || !Number.isFinite(max) || min! < 0 || min! > max!) {
    throw new ConfigError(`${flag} ${text}: expected min,max (or one value) with 0 ≤ min ≤ max`);
  }
  return [min! * unitMs, max! * unitMs];
}


export async function labelCommand(flags: LabelFlags): Promise<void> {
  const log = (message: string): void => console.error(message);
  const desk = {
    fastDelayMs: rangeFlag('--fast-delay', flags.fastDelay, 60_000),
    slowBatchEveryMs: rangeFlag('--slow-batch', flags.slowBatch, 3_600_000),
    capacityPerHour: flags.capacity === 'unlimited' ? Infinity : numberFlag('--capacity', flags.capacity, (x) => x > 0, "a number of labels per hour > 0, or 'unlimited'"),
    unsureShare: numberFlag('--unsure', flags.unsure, (x) => x >= 0 && x <= 1, 'a share in [0, 1]'),
    wrongShare: numberFlag('--wrong', flags.wrong, (x) => x >= 0 && x <= 1, 'a share in [0, 1]'),
    seed: numberFlag('--seed', flags.seed, Number.isInteger, 'a whole number'),
    shadowShare: numberFlag('--shadow-share', flags.shadowShare, (x) => x >= 0 && x <= 1, 'a share in [0, 1]'),
  };
  const untilIdleMs = flags.untilIdle === undefined ? undefined : numberFlag('--until-idle', flags.untilIdle, (x) => Number.isInteger(x) && x > 0, 'a whole number of ms > 0');
  // Read first: a wrong path fails before anything connects.
  const truth = await readGroundTruth(flags.truth).catch((error: unknown) => {
    throw new ConfigError(`--truth ${flags.truth}: ${(error as Error).message}`);
  });
  const connection = await connectKafka(flags.brokers, log);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await runLabeler({
      brokers: connection.brokers,
      clientConfig: connection.clientConfig,
      truth,
      topics: { fast: flags.fastTopic, slow: flags.slowTopic, labels: flags.labelsTopic, shadow: flags.shadowTopic },
      desk,
      untilIdleMs,
      flushAtEnd: flags.flush === true,
      signal: stop.signal,
      log,
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await connection.close();
  }
}
