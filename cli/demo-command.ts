/**
 * `signalpath demo` (what `npm start` runs): the whole loop on the local default — a broker (local
 * unless KAFKA_BROKERS is set), the model registry, a generated stream with ground truth, the
 * model-monitor topology until its input is idle, the evaluation, and the KPIs.
 *
 * Every run uses its own topics (`demo-<time>.…`), so runs never read each other's records.
 */
import path from 'node:path';
import { startModelRegistry } from '../lab/model-registry/index.js';
import { caughtUp, formatLabels, runLabeler } from '../lab/labeler/run-labeler.js';
import { costKpis, formatCost, formatScore, readMentions, scoreMentions } from '../lab/evaluate/index.js';
import { generateToTopic } from '../lab/generator/index.js';
import { readModelMonitorConfig } from '../topologies/model-monitor/config.js';
import { createModelMonitor } from '../topologies/model-monitor/topology.js';
import { ConfigError, SETTINGS } from '../runtime/config.js';
import { runTopology } from '../runtime/runner.js';
import { connectKafka } from './client-settings.js';

export async function demoCommand(flags: { events: string; seed: string; brokers?: string }): Promise<void> {
  const count = Number(flags.events);
  const seed = Number(flags.seed);
  if (!Number.isInteger(count) || count < 1) throw new ConfigError(`--events ${flags.events}: expected a whole number ≥ 1`);
  if (!Number.isInteger(seed)) throw new ConfigError(`--seed ${flags.seed}: expected a whole number`);
  const log = (message: string): void => console.log(message);
  const startedAt = Date.now();
  const elapsed = (): string => `${((Date.now() - startedAt) / 1000).toFixed(1)} s`;
  const registry = await startModelRegistry({ port: 0, seed });
  log(`model registry at ${registry.url} (heavy-tailed latency, 1 % errors)`);
  // The environment configures model-monitor as for `signalpath run`; the registry is this one.
  const prefix = `demo-${startedAt}`;
  const labelsTopic = `${prefix}.labels`;
  const config = readModelMonitorConfig(process.env, { registryUrl: registry.url, labelsTopic });
  const connection = await connectKafka(flags.brokers, log);
  const { clientConfig } = connection;
  try {
    const topics = { input: `${prefix}.inference-events`, mentions: `${prefix}.mentions`, review: `${prefix}.mentions.review`, dlq: `${prefix}.model-monitor.dlq` };
    const truthFile = path.join('reports', `${prefix}.truth.jsonl`);
    const truth = await generateToTopic({ count, seed, brokers: connection.brokers, clientConfig, topic: topics.input, truthFile, log });

    // The lab's labelers follow both lanes while model-monitor runs (lab/labeler, docs/feedback.md).
    const stopLabeler = new AbortController();
    let slowLaneRead = 0;
    const labeling = runLabeler({
      onRead: (lane, records) => {
        if (lane === 'slow') slowLaneRead = records;
      },
      brokers: connection.brokers,
      ...(clientConfig === undefined ? {} : { clientConfig }),
      truth,
      topics: { fast: topics.review, slow: topics.mentions, labels: labelsTopic },
      flushAtEnd: true,
      signal: stopLabeler.signal,
      log: () => {},
    });
    const { topology, probe } = createModelMonitor(config);
    log(`[${elapsed()}] running model-monitor (sampling ${config.sampling} at ${config.sampleFraction}, enrich ${config.enrichMode}, ${config.lanes} lanes ${config.routing} by ${config.laneKey}, detectors ${config.detectors.join('+')}, dedup ${config.dedupMode}) until its input is idle…`);
    const running = await runTopology(topology, {
      brokers: connection.brokers,
      ...(clientConfig === undefined ? {} : { clientConfig }),
      group: `${prefix}.model-monitor`,
      // This demo's state, not that of another run of model-monitor on the same broker.
      stateNamespace: `${prefix}.model-monitor`,
      topics,
      untilIdleMs: 3_000,
      // The samplers hold an epoch's records until the watermark — the slowest partition — closes it;
      // room for a few epochs of every partition keeps a fast partition from starving the slow one.
      maxUnsettled: 100_000,
      partitionHighWater: 50_000,
      batchSize: SETTINGS.batchSize.default,
      commitIntervalMs: SETTINGS.commitIntervalMs.default,
      drainTimeoutMs: SETTINGS.drainTimeoutMs.default,
      allowedLatenessMs: SETTINGS.allowedLatenessMs.default,
      partitionIdleTimeoutMs: SETTINGS.partitionIdleTimeoutMs.default,
      startFrom: 'earliest',
      partitions: 4,
      log: () => {},
    });
    const progress = setInterval(() => {
      const s = running.stats();
      log(`  processed ${s.consumed.toLocaleString('en')} / ${count.toLocaleString('en')} (${Math.round((100 * s.consumed) / count)}%) · sampled ${probe.sampled.toLocaleString('en')} · mentions ${probe.mentions} · unsettled ${s.unsettled}`);
    }, 2_000);
    const summary = await running.done;
    clearInterval(progress);
    log(`[${elapsed()}] model-monitor ${summary.reason}${summary.error ? `: ${summary.error}` : ''}: ${summary.consumed.toLocaleString('en')} consumed in ${(summary.elapsedMs / 1000).toFixed(1)} s, ${summary.deadLettered} dead letters, all settled and committed: ${summary.drained}`);

    if (summary.consumed < count) log(`  warning: the run stopped after ${summary.consumed.toLocaleString('en')} of ${count.toLocaleString('en')} events (idle): the scores below cover only those`);
    const mentions = await readMentions(connection.brokers, topics.mentions, 0, clientConfig);
    const review = await readMentions(connection.brokers, topics.review, 0, clientConfig);
    // The replay is over: let the labelers read every mention, then end with a last batch.
    await caughtUp(() => slowLaneRead >= mentions.length, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    stopLabeler.abort();
    const labels = await labeling;
    const score = scoreMentions(mentions, truth);
    const arms = [...probe.sampledByArm].map(([arm, n]) => `${arm} ${n} (${probe.findingsByArm.get(arm) ?? 0} with findings)`).join(', ');
    const lanes = probe.partition.lanes().map((lane) => lane.records);
    log('');
    log(`KPIs — model-monitor on ${count.toLocaleString('en')} generated events (seed ${seed}, ${truth.incidents.length} incidents)`);
    for (const line of formatScore(score)) log(line);
    log(`  fast lane              ${review.length} of ${mentions.length} mentions to review (${mentions.length === 0 ? 0 : ((100 * review.length) / mentions.length).toFixed(1)} %)`);
    for (const line of formatLabels(labels)) log(line);
    // What model-monitor did with the labels it received while it ran (docs/feedback.md, recalibration).
    const join = probe.labelJoin.counts;
    const moved = probe.recalibration.report(0).fields.filter((f) => f.scale !== config.levelScale).map((f) => `${f.field} ×${f.scale.toFixed(2)}`);
    log(`  recalibration          ${config.recalibrate ? 'on' : 'off'}: ${join.truePositives} true / ${join.falsePositives} false positive labels applied while it ran (${join.unsure} unsure, ${join.duplicates} duplicates) · level factors ${moved.length === 0 ? `all ×${config.levelScale}` : moved.join(', ')}`);
    log(`  sampled                ${probe.sampled.toLocaleString('en')} of ${summary.consumed.toLocaleString('en')} (${probe.lateAtSampler.toLocaleString('en')} late at the sampler) · by arm: ${arms}`);
    log(`  enrichment             ${probe.enrich.lookups} registry calls, ${probe.enrich.hits.toLocaleString('en')} cache hits, ${probe.enrich.retries} retries, ${probe.enrich.failures} failed · ${registry.requests()} requests served`);
    log(`  lanes (records)        ${lanes.join(' / ')}`);
    // The demo runs the topology in this process: CPU and peak RSS include the generator's share.
    for (const line of formatCost(costKpis(score, summary), summary)) log(line);
    log('');
    log(`where to look: KAFKA_BROKERS=${connection.local ? '<a broker>' : connection.brokers} npx signalpath tail ${topics.mentions} --max 5 · ground truth ${truthFile} · re-score: npx signalpath evaluate --topic ${topics.mentions} --truth ${truthFile}`);
    log(`[${elapsed()}] done`);
    if (summary.reason === 'fatal') process.exitCode = 1;
  } finally {
    await connection.close();
    await registry.stop();
  }
}
