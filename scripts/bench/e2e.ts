/**
 * `npm run bench:e2e` — ≥ 1M InferenceEvents through the passthrough topology (decode → encode →
 * produce, with settled-offset commits) on a local broker, beside — in the same run, on the same
 * broker and data — the Kafka client's own consume-only rate, Kafka's Java ConsumerPerformance and
 * ProducerPerformance tools from the same Maven jars, and a Kafka Streams 4.1 peer
 * (bench/kafka-streams, kafka-streams-peer.ts; skipped with a message without Java and Maven) doing
 * the same passthrough — Avro decode of the same records, encode, produce, as many outputs, checked —
 * and a model-monitor-like step (decode, filter, per-key state in a store, changes emitted). Rounds
 * interleave the variants; medians are reported, ratios are taken within a round. Figures go to stdout
 * and to reports/bench-e2e.json.
 *
 *   npm run bench:e2e -- [--events 1000000] [--rounds 3]
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { startLocalBroker } from '../../runtime/local-broker/local-broker.js';
import { endOffsets, ensureTopics } from '../../runtime/kafka/admin.js';
import { readTopic } from '../../runtime/kafka/topic-reader.js';
import { createTopicSerde } from '../../runtime/serde/index.js';
import { writeTopic } from '../../runtime/kafka/topic-writer.js';
import { InferenceEventContract } from '../../schemas/index.js';
import { generateInferenceEvents } from '../../lab/generator/simple-stream.js';
import { median, NODE_FLAGS, ROOT as root, worker, writeReport, type WorkerResult } from './support.js';
import { buildStreamsPeer, runStreamsPeer, type StreamsPeerResult } from './kafka-streams-peer.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '3' } } });
const events = Number(values.events);
const rounds = Number(values.rounds);
if (!Number.isInteger(events) || events < 1000) throw new Error(`--events ${values.events}: expected a whole number ≥ 1000`);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds ${values.rounds}: expected a whole number ≥ 1`);

const say = (message: string): void => console.log(message);

const libs = path.join(root, '.cache/kafka/libs/*');
const run = promisify(execFile);

async function javaConsumerPerformance(brokers: string, topic: string): Promise<number> {
  const { stdout } = await run('java', ['-Xmx1g', '-cp', libs, 'org.apache.kafka.tools.ConsumerPerformance', '--bootstrap-server', brokers, '--topic', topic, '--messages', String(events), '--group', `java-perf-${Date.now()}`, '--timeout', '60000'], { maxBuffer: 1 << 20 });
  // CSV: start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, ...
  const lines = stdout.trim().split('\n');
  const header = lines[0]!.split(',').map((s) => s.trim());
  const row = lines.at(-1)!.split(',').map((s) => s.trim());
  return Number(row[header.indexOf('nMsg.sec')]);
}

async function javaProducerPerformance(brokers: string, topic: string): Promise<number> {
  const { stdout } = await run('java', ['-Xmx1g', '-cp', libs, 'org.apache.kafka.tools.ProducerPerformance', '--topic', topic, '--num-records', String(events), '--record-size', '200', '--throughput', '-1', '--producer-props', `bootstrap.servers=${brokers}`, 'linger.ms=5', 'batch.size=1000000'], { maxBuffer: 1 << 22 });
  const match = /([\d.]+) records\/sec[^\n]*\n?[^\n]*$/.exec(stdout.trim());
  if (!match) throw new Error(`cannot read ProducerPerformance output: ${stdout.slice(-300)}`);
  return Number(match[1]);
}

/** Records on `topic` (the sum of its end offsets). */
async function recordsOn(brokers: string, topic: string): Promise<number> {
  return (await endOffsets(brokers, topic)).reduce((sum, p) => sum + p.offset, 0);
}

/** Decodes the first batch of `topic` with the Node side's serde: the peer wrote what signalpath reads. */
async function checkDecodes(brokers: string, topic: string): Promise<number> {
  const serde = createTopicSerde({ contract: InferenceEventContract, topic });
  for await (const batch of readTopic({ brokers, topic })) {
    for (const message of batch) serde.decode(message.value!, Object.assign({}, ...(message.headers ?? [])) as Record<string, Buffer>);
    return batch.length;
  }
  return 0;
}

say(`bench:e2e — ${events.toLocaleString('en')} InferenceEvents, ${rounds} rounds, medians reported; node ${NODE_FLAGS.join(' ')}`);
const broker = await startLocalBroker({ heap: '1g' });
try {
  const brokers = broker.brokers;
  const input = 'bench.inference-events';
  await ensureTopics(brokers, [{ topic: input, partitions: 4 }, { topic: 'bench.java-producer', partitions: 4 }]);
  const fedAt = performance.now();
  await writeTopic(generateInferenceEvents({ count: events, seed: 42 }).events, {
    brokers,
    topic: input,
    contract: InferenceEventContract,
    onProgress: (n) => process.stdout.write(`\r  feeding ${Math.round((100 * n) / events)}%`),
  });
  const feedSeconds = (performance.now() - fedAt) / 1000;
  say(`\r  fed ${events.toLocaleString('en')} events in ${feedSeconds.toFixed(1)} s (${Math.round(events / feedSeconds).toLocaleString('en')}/s, Avro encode + produce)`);

  const peer = await buildStreamsPeer(say);
  say('  warm-up pass (the broker is cold after start)…');
  await worker(['consume-only', brokers, input, String(events)]);

  const consumeOnly: WorkerResult[] = [];
  const passthrough: WorkerResult[] = [];
  const javaConsume: number[] = [];
  const javaProduce: number[] = [];
  const streamsPassthrough: StreamsPeerResult[] = [];
  const streamsMonitor: StreamsPeerResult[] = [];
  let streamsMonitorOutputs = 0;
  for (let round = 1; round <= rounds; round++) {
    consumeOnly.push(await worker(['consume-only', brokers, input, String(events)]));
    passthrough.push(await worker(['passthrough', brokers, input, String(events), `bench.out-${round}`]));
    javaConsume.push(await javaConsumerPerformance(brokers, input));
    javaProduce.push(await javaProducerPerformance(brokers, 'bench.java-producer'));
    let streamsLine = '';
    if (peer !== null) {
      const [ksOut, ksMonitorOut] = [`bench.ks-out-${round}`, `bench.ks-monitor-${round}`];
      await ensureTopics(brokers, [{ topic: ksOut, partitions: 4 }, { topic: ksMonitorOut, partitions: 4 }]);
      streamsPassthrough.push(await runStreamsPeer(peer, 'passthrough', brokers, input, ksOut, events));
      const outputs = await recordsOn(brokers, ksOut);
      if (outputs !== events) throw new Error(`the Kafka Streams passthrough wrote ${outputs} records for ${events} inputs`);
      if (round === 1) say(`  the Kafka Streams passthrough wrote ${outputs.toLocaleString('en')} records; the first ${await checkDecodes(brokers, ksOut)} decode as InferenceEvents with signalpath's serde`);
      streamsMonitor.push(await runStreamsPeer(peer, 'monitor', brokers, input, ksMonitorOut, events));
      streamsMonitorOutputs = await recordsOn(brokers, ksMonitorOut);
      streamsLine = ` · Kafka Streams passthrough ${Math.round(streamsPassthrough.at(-1)!.per_s).toLocaleString('en')}/s, monitor-like step ${Math.round(streamsMonitor.at(-1)!.per_s).toLocaleString('en')}/s`;
    }
    say(`  round ${round}/${rounds}: passthrough ${Math.round(passthrough.at(-1)!.per_s).toLocaleString('en')}/s · client consume-only ${Math.round(consumeOnly.at(-1)!.per_s).toLocaleString('en')}/s · Java consumer ${Math.round(javaConsume.at(-1)!).toLocaleString('en')}/s · Java producer ${Math.round(javaProduce.at(-1)!).toLocaleString('en')}/s${streamsLine}`);
  }

  const report = {
    events,
    rounds,
    events_per_s: Math.round(median(passthrough.map((r) => r.per_s))),
    client_consume_only_per_s: Math.round(median(consumeOnly.map((r) => r.per_s))),
    ratio_to_client: 0,
    p50_ms: Number(median(passthrough.map((r) => r.p50_ms!)).toFixed(2)),
    p99_ms: Number(median(passthrough.map((r) => r.p99_ms!)).toFixed(2)),
    peak_rss_mb: Math.round(Math.max(...passthrough.map((r) => r.peak_rss_mb))),
    client_consume_only_peak_rss_mb: Math.round(Math.max(...consumeOnly.map((r) => r.peak_rss_mb))),
    java_consumer_performance_per_s: Math.round(median(javaConsume)),
    java_producer_performance_per_s: Math.round(median(javaProduce)),
    kafka_streams: peer === null
      ? null
      : {
          passthrough_per_s: Math.round(median(streamsPassthrough.map((r) => r.per_s))),
          monitor_step_per_s: Math.round(median(streamsMonitor.map((r) => r.per_s))),
          monitor_step_outputs: streamsMonitorOutputs,
          // Ratios within a round, then the median.
          passthrough_ratio: Number(median(passthrough.map((r, i) => r.per_s / streamsPassthrough[i]!.per_s)).toFixed(3)),
          passthrough_to_monitor_step_ratio: Number(median(passthrough.map((r, i) => r.per_s / streamsMonitor[i]!.per_s)).toFixed(3)),
          passthrough_cpu_s_per_1m: Number(median(streamsPassthrough.map((r) => (r.cpu_s / r.records) * 1e6)).toFixed(1)),
          monitor_step_cpu_s_per_1m: Number(median(streamsMonitor.map((r) => (r.cpu_s / r.records) * 1e6)).toFixed(1)),
          passthrough_peak_rss_mb: Math.round(Math.max(...streamsPassthrough.map((r) => r.peak_rss_mb))),
          monitor_step_peak_rss_mb: Math.round(Math.max(...streamsMonitor.map((r) => r.peak_rss_mb))),
          version: 'kafka-streams 4.1.1, one stream thread, at-least-once, commit 1 s',
        },
    passthrough_cpu_s_per_1m: Number(median(passthrough.map((r) => (r.cpu_s! / r.records) * 1e6)).toFixed(1)),
    load_average: (await import('node:os')).loadavg().map((l) => Number(l.toFixed(2))),
    feed_per_s: Math.round(events / feedSeconds),
    measured_at: new Date().toISOString(),
    machine: `${(await import('node:os')).cpus().length} cores, Node ${process.version}`,
    node_flags: NODE_FLAGS.join(' '),
  };
  report.ratio_to_client = Number((report.events_per_s / report.client_consume_only_per_s).toFixed(3));

  say('');
  say('| what | records/s | vs client consume-only |');
  say('|---|---:|---:|');
  const row = (what: string, perS: number): void => say(`| ${what} | ${perS.toLocaleString('en')} | ${(perS / report.client_consume_only_per_s).toFixed(2)}× |`);
  row('passthrough topology (decode → encode → produce, settled commits)', report.events_per_s);
  row('Node client consume-only (callback API, consume(1000))', report.client_consume_only_per_s);
  row("Kafka's Java ConsumerPerformance", report.java_consumer_performance_per_s);
  row("Kafka's Java ProducerPerformance (200-byte records)", report.java_producer_performance_per_s);
  if (report.kafka_streams !== null) {
    row('Kafka Streams 4.1 passthrough (Avro decode → encode → produce, 1 thread)', report.kafka_streams.passthrough_per_s);
    row('Kafka Streams 4.1 monitor-like step (decode → filter → per-key state → changes, 1 thread)', report.kafka_streams.monitor_step_per_s);
  }
  say('');
  say(`passthrough latency (decoded → output acknowledged): p50 ${report.p50_ms} ms, p99 ${report.p99_ms} ms · peak RSS ${report.peak_rss_mb} MB (consume-only: ${report.client_consume_only_peak_rss_mb} MB)`);
  if (report.kafka_streams !== null) {
    const ks = report.kafka_streams;
    say(`passthrough / Kafka Streams on the same work: ${ks.passthrough_ratio}× (client ratio ${report.ratio_to_client}×); passthrough / Kafka Streams' monitor-like step: ${ks.passthrough_to_monitor_step_ratio}× · CPU s per 1M records: passthrough ${report.passthrough_cpu_s_per_1m}, Kafka Streams ${ks.passthrough_cpu_s_per_1m} / ${ks.monitor_step_cpu_s_per_1m} · Kafka Streams peak RSS ${ks.passthrough_peak_rss_mb} / ${ks.monitor_step_peak_rss_mb} MB`);
    say(`target: passthrough ≥ 0.5× Kafka Streams on the same work → ${ks.passthrough_ratio >= 0.5 ? 'met' : 'NOT met'} (${ks.passthrough_ratio}×)`);
  }
  say(`target: ≥ 0.60× the client's consume-only rate with RSS < 400 MB → ${report.ratio_to_client >= 0.6 ? 'met' : 'NOT met'} (${report.ratio_to_client}×), RSS ${report.peak_rss_mb < 400 ? 'met' : 'NOT met'}`);
  writeReport('bench-e2e.json', report);
} finally {
  await broker.stop();
}
