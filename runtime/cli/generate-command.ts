/**
 * `signalpath generate`: the lab's seeded stream of InferenceEvents (lab/generator) to a topic, and
 * its ground truth (the injected incidents) to a JSON-lines file for `signalpath evaluate`.
 */
import { InferenceEventContract } from '../../schemas/index.js';
import { generateStream, PROFILE_NAMES, replayNab, writeGroundTruth, type GroundTruth, type ProfileName, type StreamOptions } from '../../lab/generator/index.js';
import { readNabCorpus } from '../../evaluation/nab/corpus.js';
import { resolveNabDataDir } from '../../evaluation/nab/data-dir.js';
import type { NabCorpus } from '../../evaluation/nab/types.js';
import { ConfigError } from '../config.js';
import { ensureTopics } from '../kafka/admin.js';
import { writeTopic } from '../kafka/topic-writer.js';
import { connectKafka } from './client-settings.js';
import type { ClientConfig } from '../kafka/client.js';

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

export interface GenerateToTopicOptions extends StreamOptions {
  readonly brokers: string;
  readonly topic: string;
  /** Ground-truth file to write; none when undefined. */
  readonly truthFile?: string;
  readonly partitions?: number;
  readonly log?: (message: string) => void;
  /** Called with the events written (acknowledged) so far, every 1% or 10k (progress bars). */
  readonly onProgress?: (written: number) => void;
  /** Replay this NAB corpus inside the background (`--nab`). */
  readonly nab?: NabCorpus;
  /** Client settings (SIGNALPATH_KAFKA_*) for the admin client and the producer. */
  readonly clientConfig?: ClientConfig;
}

/** Generates, writes every event to `topic` (acknowledged), writes the ground truth; returns it. */
export async function generateToTopic(options: GenerateToTopicOptions): Promise<GroundTruth> {
  const log = options.log ?? (() => {});
  const stream = options.nab === undefined ? generateStream(options) : replayNab(options.nab, options);
  await ensureTopics(options.brokers, [{ topic: options.topic, partitions: options.partitions ?? 4 }], undefined, options.clientConfig);
  const startedAt = Date.now();
  log(`generating ${options.count.toLocaleString('en')} InferenceEvents (seed ${options.seed ?? 1}${options.profile === undefined || options.profile === 'default' ? '' : `, profile ${options.profile}`}, ${stream.incidents.length} incidents${options.nab === undefined ? '' : `, NAB corpus replayed from ${options.nab.dataDir}`}) to ${options.topic}…`);
  await writeTopic(stream.events, {
    brokers: options.brokers,
    topic: options.topic,
    contract: InferenceEventContract,
    clientConfig: options.clientConfig,
    progressEvery: options.onProgress === undefined ? Math.max(10_000, Math.ceil(options.count / 10)) : Math.max(1000, Math.ceil(options.count / 200)),
    // A caller with its own progress display gets the counts instead of log lines.
    onProgress: options.onProgress ?? ((n) => log(`  written ${n.toLocaleString('en')}${options.nab === undefined ? ` (${Math.round((100 * n) / Math.max(1, options.count))}%)` : ''}`)),
  });
  const truth = stream.truth();
  const seconds = (Date.now() - startedAt) / 1000;
  log(`  written ${truth.run.events.toLocaleString('en')} in ${seconds.toFixed(1)} s (${Math.round(truth.run.events / Math.max(0.001, seconds)).toLocaleString('en')} events/s)${options.nab === undefined ? '' : `, of which ${(truth.run.events - options.count).toLocaleString('en')} replayed from ${options.nab.files.length} NAB files`}`);
  if (options.truthFile !== undefined) {
    await writeGroundTruth(options.truthFile, truth);
    log(`  ground truth: ${truth.incidents.length} incidents → ${options.truthFile}`);
  }
  return truth;
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
