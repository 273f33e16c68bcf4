/**
 * The lab's labeler as a process on the broker, like the model registry: it follows the fast lane
 * (`mentions.review`) and the slow lane (`mentions`), lets a {@link LabelDesk} decide each label from
 * the ground truth, and produces `Label` records to `labels` (key `mention_id`).
 *
 * Event time is the mentions' own: the desk's clock is the latest window end seen on either lane, so
 * a replay at full speed gives the labels a live stream would get, minutes or days later in event
 * time. It reads both topics from their beginning without a consumer group (it never disturbs a
 * topology's group); a restarted labeler labels again, and whoever applies labels must be idempotent
 * by `mention_id` (a label is a verdict on a mention, not an increment).
 */
import { LabelContract, MentionContract, type Label, type Mention } from '../../schemas/index.js';
import { endOffsets, ensureTopics } from '../../runtime/kafka/admin.js';
import type { ClientConfig, Message } from '../../runtime/kafka/client.js';
import { readTopic } from '../../runtime/kafka/topic-reader.js';
import { writeTopic } from '../../runtime/kafka/topic-writer.js';
import { createTopicSerde } from '../../runtime/serde/index.js';
import { quantile } from '../evaluate/index.js';
import type { GroundTruth } from '../generator/index.js';
import { LabelDesk, type Lane, type LabelDeskCounts, type LabelDeskOptions, type ShadowDeskCounts } from './label-desk.js';
import { fromKafkaHeaders } from '../../runtime/kafka/headers.js';

export interface LabelerTopics {
  /** The fast lane. Default `mentions.review`. */
  readonly fast?: string;
  /** The slow lane. Default `mentions`. */
  readonly slow?: string;
  /** Where labels go. Default `labels`. */
  readonly labels?: string;
  /** Shadow mentions (model-monitor's MODEL_MONITOR_SHADOW_DETECTORS), a share of them labelled (desk `shadowShare`). Default: none. */
  readonly shadow?: string;
}

export interface RunLabelerOptions {
  readonly brokers: string;
  readonly clientConfig?: ClientConfig;
  readonly truth: GroundTruth;
  readonly topics?: LabelerTopics;
  /** The desk's behaviour (delays, capacity, shares, seed); incidents come from `truth`. */
  readonly desk?: Omit<LabelDeskOptions, 'incidents'>;
  /** Stop once neither lane has had a record for this long, ms. Default: run until `signal` aborts. */
  readonly untilIdleMs?: number;
  /** At the end, label what is still pending (the lab does: its stream is over). Default false. */
  readonly flushAtEnd?: boolean;
  readonly signal?: AbortSignal;
  readonly log?: (message: string) => void;
  /** Told, after each batch, how many records it has read from a lane so far (a caller that knows how many mentions there are can wait for them). */
  readonly onRead?: (lane: Lane, records: number) => void;
}

/** How long labels took, per lane: event time (mention window end → label) and processing time (mention emitted → label produced). */
export interface LaneLatency {
  readonly labels: number;
  readonly eventTimeP50Ms: number | null;
  readonly eventTimeP99Ms: number | null;
  readonly processingP50Ms: number | null;
  readonly processingP99Ms: number | null;
}

export interface LabelerOutcome {
  readonly counts: LabelDeskCounts;
  readonly latency: Readonly<Record<Lane, LaneLatency>>;
  readonly labelsWritten: number;
  /** The shadow lane's counts, when it was followed. */
  readonly shadow?: ShadowDeskCounts;
  /** Records on either lane that were not Mentions (counted, skipped). */
  readonly undecodable: number;
}

/** An async queue of labels: the readers push, the writer pulls until it is closed. */
class LabelQueue implements AsyncIterable<Label> {
  readonly #items: Label[] = [];
  #wake: (() => void) | undefined;
  #closed = false;

  push(labels: readonly Label[]): void {
    if (labels.length === 0) return;
    this.#items.push(...labels);
    this.#wake?.();
  }

  close(): void {
    this.#closed = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Label> {
    for (;;) {
      while (this.#items.length > 0) yield this.#items.shift()!;
      if (this.#closed) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }
}

export async function runLabeler(options: RunLabelerOptions): Promise<LabelerOutcome> {
  const log = options.log ?? ((message: string) => console.error(message));
  const topics = { fast: options.topics?.fast ?? 'mentions.review', slow: options.topics?.slow ?? 'mentions', labels: options.topics?.labels ?? 'labels', shadow: options.topics?.shadow || undefined };
  const delays: Record<Lane, { eventTime: number[]; processing: number[] }> = { fast: { eventTime: [], processing: [] }, slow: { eventTime: [], processing: [] } };
  const desk = new LabelDesk({
    ...options.desk,
    incidents: options.truth.incidents,
    onLabel: (label, mention, lane) => {
      // Bounded: a sample of the latest 100 000 per lane is plenty for two quantiles.
      const lists = delays[lane];
      if (lists.eventTime.length >= 100_000) {
        lists.eventTime.shift();
        lists.processing.shift();
      }
      lists.eventTime.push(label.labeled_at - mention.window_end);
      lists.processing.push(Date.now() - mention.emitted_at);
    },
  });
  const followed = topics.shadow === undefined ? [topics.fast, topics.slow] : [topics.fast, topics.slow, topics.shadow];
  await ensureTopics(options.brokers, [...followed, topics.labels].map((topic) => ({ topic, partitions: 4 })), undefined, options.clientConfig);
  // A topic just created (here or by the topology) may not have partition metadata or leaders yet:
  // the readers assign the partitions they are told of at start, so wait until there are some.
  for (const topic of followed) await partitionsKnown(options.brokers, topic, options.clientConfig, options.signal);
  const queue = new LabelQueue();
  const written = writeTopic(queue, { brokers: options.brokers, topic: topics.labels, contract: LabelContract, clientConfig: options.clientConfig, flushEvery: 1_000 });
  let undecodable = 0;
  let eventTimeMs = -Infinity;

  const follow = async (topic: string, lane: Lane | 'shadow'): Promise<void> => {
    const serde = createTopicSerde({ contract: MentionContract, topic });
    const batches = readTopic({ brokers: options.brokers, topic, toEnd: false, idleMs: options.untilIdleMs, signal: options.signal, clientConfig: options.clientConfig });
    let read = 0;
    for await (const batch of batches) {
      read += batch.length;
      for (const message of batch) {
        const mention = decode(serde, message);
        if (mention === undefined) {
          undecodable++;
          continue;
        }
        if (lane === 'shadow') {
          // Shadow mentions are labelled, but their event time does not move the live lanes' clock.
          desk.offerShadow(mention);
          continue;
        }
        desk.offer(mention, lane);
        eventTimeMs = Math.max(eventTimeMs, mention.window_end);
      }
      queue.push(desk.advanceTo(eventTimeMs));
      if (lane !== 'shadow') options.onRead?.(lane, read);
    }
  };

  log(`labeler: fast lane ${topics.fast}, slow lane ${topics.slow} → ${topics.labels} (${options.truth.incidents.length} incidents in the ground truth)`);
  try {
    await Promise.all([follow(topics.fast, 'fast'), follow(topics.slow, 'slow'), ...(topics.shadow === undefined ? [] : [follow(topics.shadow, 'shadow')])]);
    if (options.flushAtEnd) queue.push(desk.flush());
  } finally {
    queue.close();
  }
  const labelsWritten = await written;
  const { counts } = desk;
  log(
    `labeler: ${labelsWritten} labels (fast ${counts.labelled.fast}, slow ${counts.labelled.slow}; ${counts.verdicts.TRUE_POSITIVE} true, ${counts.verdicts.FALSE_POSITIVE} false, ${counts.verdicts.UNSURE} unsure), ${desk.pending} pending, ${counts.dropped} dropped, ${undecodable} undecodable`,
  );
  const latencyOf = (lane: Lane): LaneLatency => ({
    labels: counts.labelled[lane],
    eventTimeP50Ms: quantile(delays[lane].eventTime, 0.5),
    eventTimeP99Ms: quantile(delays[lane].eventTime, 0.99),
    processingP50Ms: quantile(delays[lane].processing, 0.5),
    processingP99Ms: quantile(delays[lane].processing, 0.99),
  });
  if (topics.shadow !== undefined) log(`labeler: shadow lane ${topics.shadow}: ${desk.shadowCounts.labelled} labels of ${desk.shadowCounts.offered} shadow mentions (${desk.shadowCounts.sampled} sampled)`);
  return { counts, latency: { fast: latencyOf('fast'), slow: latencyOf('slow') }, labelsWritten, undecodable, ...(topics.shadow === undefined ? {} : { shadow: desk.shadowCounts }) };
}

function decode(serde: ReturnType<typeof createTopicSerde<Mention>>, message: Message): Mention | undefined {
  if (message.value === null || message.value === undefined) return undefined;
  const headers = fromKafkaHeaders(message.headers);
  try {
    return serde.decode(message.value, headers);
  } catch {
    return undefined;
  }
}

/** The labelers' KPIs as aligned text lines (the demo's and the lab's summaries). */
export function formatLabels(outcome: LabelerOutcome): string[] {
  const { verdicts } = outcome.counts;
  const decided = verdicts.TRUE_POSITIVE + verdicts.FALSE_POSITIVE;
  const duration = (ms: number | null): string => (ms === null ? 'n/a' : ms >= 3_600_000 ? `${(ms / 3_600_000).toFixed(1)} h` : ms >= 60_000 ? `${(ms / 60_000).toFixed(1)} min` : `${(ms / 1000).toFixed(1)} s`);
  const lane = (name: Lane): string => {
    const l = outcome.latency[name];
    return `${name} ${l.labels} (event time p50 ${duration(l.eventTimeP50Ms)}, processing p50 ${duration(l.processingP50Ms)} p99 ${duration(l.processingP99Ms)})`;
  };
  return [
    `  labels                 ${outcome.labelsWritten}: ${lane('fast')} · ${lane('slow')}`,
    `  labelled precision     ${decided === 0 ? 'n/a' : `${((100 * verdicts.TRUE_POSITIVE) / decided).toFixed(1)} %`} (${verdicts.TRUE_POSITIVE} true, ${verdicts.FALSE_POSITIVE} false, ${verdicts.UNSURE} unsure; the labelers err on purpose: docs/feedback.md)`,
  ];
}

/** Resolves once `done()` holds or `timeoutMs` has passed (then false): for callers that wait for the labelers to catch up. */
export async function caughtUp(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

/** Resolves once `topic` reports partitions with offsets (retrying every 500 ms for up to 60 s). */
async function partitionsKnown(brokers: string, topic: string, clientConfig: ClientConfig | undefined, signal: AbortSignal | undefined): Promise<void> {
  const deadline = Date.now() + 60_000;
  let lastError = 'no partitions yet';
  while (signal?.aborted !== true) {
    try {
      if ((await endOffsets(brokers, topic, undefined, clientConfig)).length > 0) return;
    } catch (error) {
      lastError = (error as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`labeler: topic ${topic} has no readable partitions after 60 s (${lastError})`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
