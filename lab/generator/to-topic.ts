/**
 * The generator's stream written to a topic (acknowledged) and its ground truth to a JSON-lines file:
 * what `signalpath generate`, the demo and the lab runs put on their input topic.
 */
import { InferenceEventContract } from '../../schemas/index.js';
import { ensureTopics } from '../../runtime/kafka/admin.js';
import type { ClientConfig } from '../../runtime/kafka/client.js';
import { writeTopic } from '../../runtime/kafka/topic-writer.js';
import type { NabCorpus } from '../nab/types.js';
import { replayNab } from './nab-replay.js';
import { generateStream, type StreamOptions } from './stream.js';
import { writeGroundTruth, type GroundTruth } from './truth-file.js';

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
