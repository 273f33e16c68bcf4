/**
 * `signalpath demo` (what `npm start` runs): start a local broker unless KAFKA_BROKERS is set, create
 * the topics, feed a generated stream of InferenceEvents with injected incidents, run an example
 * topology until the input is idle, and print what it found.
 */
import { InferenceEventContract, MentionContract, type Mention } from '../../schemas/index.js';
import { generateInferenceEvents } from '../../lab/inference-events.js';
import { ConfigError, SETTINGS } from '../config.js';
import { ensureTopics } from '../kafka/admin.js';
import { readAll } from '../kafka/topic-reader.js';
import { writeTopic } from '../kafka/topic-writer.js';
import { runTopology } from '../runner.js';
import { createTopicSerde } from '../serde/index.js';
import { loadTopology } from '../topology-loader.js';
import { connectBrokers } from './brokers.js';

export async function demoCommand(flags: { events: string; seed: string; topology: string; brokers?: string }): Promise<void> {
  const count = Number(flags.events);
  const seed = Number(flags.seed);
  if (!Number.isInteger(count) || count < 1) throw new ConfigError(`--events ${flags.events}: expected a whole number ≥ 1`);
  if (!Number.isInteger(seed)) throw new ConfigError(`--seed ${flags.seed}: expected a whole number`);
  const log = (message: string): void => console.log(message);
  const topology = await loadTopology(flags.topology);
  const connection = await connectBrokers(flags.brokers, log);
  try {
    const runStartedAt = Date.now();
    const inputTopic = topology.input.topic;
    await ensureTopics(connection.brokers, [{ topic: inputTopic, partitions: 4 }]);

    const { events, incidents } = generateInferenceEvents({ count, seed });
    log(`feeding ${count.toLocaleString('en')} InferenceEvents (seed ${seed}, ${incidents.length} injected incidents) to ${inputTopic}…`);
    const fedAt = Date.now();
    await writeTopic(events, {
      brokers: connection.brokers,
      topic: inputTopic,
      contract: InferenceEventContract,
      progressEvery: Math.max(10_000, Math.floor(count / 10)),
      onProgress: (n) => log(`  fed ${n.toLocaleString('en')} (${Math.round((100 * n) / count)}%)`),
    });
    log(`  fed ${count.toLocaleString('en')} in ${((Date.now() - fedAt) / 1000).toFixed(1)} s`);

    log(`running topology ${topology.name} until its input is idle…`);
    const running = await runTopology(topology, {
      brokers: connection.brokers,
      group: `signalpath.demo.${topology.name}.${runStartedAt}`,
      topics: {},
      untilIdleMs: 3_000,
      maxUnsettled: SETTINGS.maxUnsettled.default,
      partitionHighWater: SETTINGS.partitionHighWater.default,
      batchSize: SETTINGS.batchSize.default,
      commitIntervalMs: SETTINGS.commitIntervalMs.default,
      drainTimeoutMs: SETTINGS.drainTimeoutMs.default,
      allowedLatenessMs: SETTINGS.allowedLatenessMs.default,
      partitionIdleTimeoutMs: SETTINGS.partitionIdleTimeoutMs.default,
      startFrom: 'earliest',
      partitions: 4,
      log: (message) => log(`  ${message}`),
    });
    const progress = setInterval(() => {
      const s = running.stats();
      log(`  processed ${s.consumed.toLocaleString('en')} / ${count.toLocaleString('en')} · outputs ${s.delivered} · unsettled ${s.unsettled}`);
    }, 1_000);
    const summary = await running.done;
    clearInterval(progress);

    const mentionTopic = running.topics.mentions;
    const mentions: Mention[] = [];
    if (mentionTopic) {
      const serde = createTopicSerde({ contract: MentionContract, topic: mentionTopic });
      for (const message of await readAll(connection.brokers, mentionTopic)) {
        if (message.value === null) continue;
        const headers = Object.assign({}, ...(message.headers ?? [])) as Record<string, Buffer>;
        const mention = serde.decode(message.value, headers);
        if (mention.emitted_at >= runStartedAt) mentions.push(mention);
      }
    }
    const detected = incidents.filter((incident) =>
      mentions.some((m) => m.model_id === incident.model_id && m.segment === incident.segment && m.field === incident.field && m.window_end >= incident.start && m.window_start < incident.end),
    );
    const seconds = summary.elapsedMs / 1000;
    log('');
    log(`summary — topology ${summary.topology} (${summary.reason}${summary.error ? `: ${summary.error}` : ''})`);
    log(`  events consumed        ${summary.consumed.toLocaleString('en')}`);
    log(`  outputs produced       ${summary.produced.toLocaleString('en')} (mentions: ${mentions.length}, ${((mentions.length / Math.max(1, summary.consumed)) * 10_000).toFixed(1)} per 10k events)`);
    log(`  dead letters           ${summary.deadLettered}`);
    log(`  incidents with a mention  ${detected.length} of ${incidents.length}`);
    log(`  run time               ${seconds.toFixed(1)} s (${Math.round(summary.consumed / Math.max(0.001, seconds)).toLocaleString('en')} events/s incl. start and idle wait)`);
    log(`  most records unsettled ${summary.maxUnsettledSeen} · all settled and committed: ${summary.drained}`);
    log(`  inspect: KAFKA_BROKERS=<brokers> npx signalpath tail ${mentionTopic ?? '<topic>'} --max 5`);
    if (summary.reason === 'fatal') process.exitCode = 1;
  } finally {
    await connection.close();
  }
}
