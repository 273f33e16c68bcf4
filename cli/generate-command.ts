/**
 * `signalpath generate`: the lab's seeded stream of InferenceEvents (lab/generator) to a topic, and
 * its ground truth (the injected incidents) to a JSON-lines file for `signalpath evaluate`.
 */
import { generateStream, generateToTopic, PROFILE_NAMES, replayNab, type ProfileName, type StreamOptions } from '../lab/generator/index.js';
import { readNabCorpus } from '../lab/nab/corpus.js';
import { resolveNabDataDir } from '../lab/nab/data-dir.js';
import type { NabCorpus } from '../lab/nab/types.js';
import { ConfigError } from '../runtime/config.js';
import { connectKafka } from './client-settings.js';

export interface GenerateFlags {
  events: string;
  seed: string;
  profile?: string;
  topic: string;
  truth: string;
  brokers?: string;
  models?: string;
  eventsPerSecond?: string;
  incidents?: string;
  partitions: string;
  nab?: boolean;
}

function wholeNumber(flag: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new ConfigError(`${flag} ${raw}: expected a whole number ≥ ${min}`);
  return value;
}

/** `--profile`: one of the generator's profiles (`default` when absent). */
export function parseProfile(raw: string | undefined): ProfileName {
  if (raw === undefined) return 'default';
  if (!(PROFILE_NAMES as readonly string[]).includes(raw)) throw new ConfigError(`--profile ${raw}: expected one of ${PROFILE_NAMES.join(', ')}`);
  return raw as ProfileName;
}

export async function generateCommand(flags: GenerateFlags): Promise<void> {
  const count = wholeNumber('--events', flags.events, 1)!;
  const seed = Number(flags.seed);
  if (!Number.isInteger(seed)) throw new ConfigError(`--seed ${flags.seed}: expected a whole number`);
  const eventsPerSecond = flags.eventsPerSecond === undefined ? undefined : Number(flags.eventsPerSecond);
  if (eventsPerSecond !== undefined && !(eventsPerSecond > 0)) throw new ConfigError(`--events-per-second ${flags.eventsPerSecond}: expected a number > 0`);
  const profile = parseProfile(flags.profile);
  const options: StreamOptions = {
    count,
    seed,
    ...(profile === 'default' ? {} : { profile }),
    ...(flags.models === undefined ? {} : { models: wholeNumber('--models', flags.models, 1) }),
    ...(flags.incidents === undefined ? {} : { incidents: wholeNumber('--incidents', flags.incidents, 0) }),
    ...(eventsPerSecond === undefined ? {} : { eventsPerSecond }),
  };
  // The NAB corpus is read in place (NAB_DATA_DIR, else ../shared/data/nab), never copied.
  let nab: NabCorpus | undefined;
  try {
    nab = flags.nab === true ? await readNabCorpus(resolveNabDataDir()) : undefined;
    if (nab === undefined) generateStream(options); // checks the options before anything connects
    else replayNab(nab, options);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const log = (message: string): void => console.log(message);
  const connection = await connectKafka(flags.brokers, log);
  const { clientConfig } = connection;
  try {
    const truth = await generateToTopic({ ...options, brokers: connection.brokers, topic: flags.topic, truthFile: flags.truth, partitions: wholeNumber('--partitions', flags.partitions, 1), log, clientConfig, ...(nab === undefined ? {} : { nab }) });
    const byKind = new Map<string, number>();
    for (const incident of truth.incidents) byKind.set(incident.kind, (byKind.get(incident.kind) ?? 0) + 1);
    log(`incidents: ${[...byKind].map(([kind, n]) => `${kind} ${n}`).join(', ')}; event time ${new Date(truth.run.start_ms).toISOString()} → ${new Date(truth.run.end_ms).toISOString()}`);
  } finally {
    await connection.close();
  }
}
