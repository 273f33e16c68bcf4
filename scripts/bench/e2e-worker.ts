/**
 * One measured pass of the end-to-end benchmarks, in its own process so its RSS and JIT are its own.
 *   consume-only  <brokers> <topic> <count>            the client's own rate (callback API, consume(n))
 *   passthrough   <brokers> <topic> <count> <output>   the passthrough topology through the runner
 *   model-monitor <brokers> <topic> <count> <prefix>   model-monitor through the runner, configured from
 *                                                      MODEL_MONITOR_* (outputs <prefix>.mentions, …)
 * A runner pass prints `{"ready":true}` once its consumer holds partitions, `{"consumed":n}` every
 * 250 ms, and one JSON line with its figures when the input has been idle 1.5 s.
 */
import { createHistogram } from 'node:perf_hooks';
import { KafkaConsumer, type Message } from '../../runtime/kafka/client.js';
import { runTopology } from '../../runtime/runner.js';
import { defineTopology, toOutput } from '../../runtime/topology.js';
import { createSettlement } from '../../core/settlement.js';
import { readSetting, SETTINGS } from '../../runtime/config.js';
import passthrough from '../../topologies/passthrough/index.js';
import { readModelMonitorConfig } from '../../topologies/model-monitor/config.js';
import { createModelMonitor } from '../../topologies/model-monitor/topology.js';
import type { Topology } from '../../runtime/topology.js';
import type { Envelope } from '../../core/envelope.js';
import type { InferenceEvent } from '../../schemas/index.js';
import { map } from 'rxjs';

const [mode, brokers, topic, countText, output] = process.argv.slice(2);
const count = Number(countText);
const group = `bench-${mode}-${Date.now()}`;
const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024;

async function consumeOnly(): Promise<void> {
  const consumer = new KafkaConsumer(
    { 'bootstrap.servers': brokers!, 'group.id': group, 'enable.auto.commit': false, 'fetch.queue.backoff.ms': 10, log_level: 3 },
    { 'auto.offset.reset': 'earliest' },
  );
  await new Promise<void>((resolve, reject) => consumer.connect({}, (err) => (err ? reject(err) : resolve())));
  consumer.setDefaultConsumeTimeout(100);
  consumer.subscribe([topic!]);
  let received = 0;
  let firstAt = 0;
  while (received < count) {
    const batch = await new Promise<Message[]>((resolve) => consumer.consume(1000, (_err, messages) => resolve(messages ?? [])));
    if (batch.length > 0 && firstAt === 0) firstAt = performance.now();
    received += batch.length;
  }
  const seconds = (performance.now() - firstAt) / 1000;
  await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  console.log(JSON.stringify({ mode, records: received, seconds, per_s: received / seconds, peak_rss_mb: peakRssMb() }));
}

/** The passthrough with a latency stamp: decoded record entering the steps → its output acknowledged. */
function stampedPassthrough(latency: ReturnType<typeof createHistogram>): Topology<unknown> {
  return defineTopology<InferenceEvent>({
    ...passthrough,
    name: 'passthrough-bench',
    steps: (input) =>
      input
        .step('stamp', map((envelope: Envelope<InferenceEvent>) => {
          const startedAt = process.hrtime.bigint();
          const original = envelope.settlement;
          return { ...envelope, settlement: createSettlement((outcome) => {
            latency.record(Number(process.hrtime.bigint() - startedAt) || 1);
            original.settle(outcome);
          }) };
        }))
        .step('route', toOutput('output')),
  }) as Topology<unknown>;
}

async function throughRunner(): Promise<void> {
  // Passthrough: latency sampled on every record into an HDR-style histogram (nanoseconds).
  const latency = createHistogram();
  const monitor = mode === 'model-monitor';
  const topology = monitor ? (createModelMonitor(readModelMonitorConfig(process.env)).topology as Topology<unknown>) : stampedPassthrough(latency);
  const topics: Record<string, string> = monitor ? { input: topic!, mentions: `${output}.mentions`, review: `${output}.review`, dlq: `${output}.dlq` } : { input: topic!, output: output! };
  let firstAt = 0;
  let lastAt = 0;
  let cpuAtFirst = 0;
  let cpuAtLast = 0;
  let settledAtLast = 0;
  let ready = false;
  const cpuSeconds = (): number => {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1e6;
  };
  const running = await runTopology(topology, {
    brokers: brokers!,
    group,
    topics,
    // Longer in a live pass, whose feed starts a moment after the worker caught up with the history.
    untilIdleMs: Number(process.env['BENCH_UNTIL_IDLE_MS'] ?? 1500),
    // The runner's defaults, or SIGNALPATH_* overrides, exactly as `signalpath run` reads them.
    maxUnsettled: readSetting('maxUnsettled', undefined, process.env) as number,
    partitionHighWater: readSetting('partitionHighWater', undefined, process.env) as number,
    batchSize: readSetting('batchSize', undefined, process.env) as number,
    telemetry: readSetting('telemetry', undefined, process.env) as 'on' | 'off',
    traceContext: readSetting('traceContext', undefined, process.env) === 'on',
    metricsPort: 0,
    commitIntervalMs: SETTINGS.commitIntervalMs.default,
    drainTimeoutMs: SETTINGS.drainTimeoutMs.default,
    allowedLatenessMs: readSetting('allowedLatenessMs', undefined, process.env) as number,
    partitionIdleTimeoutMs: 30_000,
    startFrom: 'earliest',
    partitions: 4,
    stateNamespace: group,
    log: (message) => {
      if (!ready && message.startsWith('assigned ')) {
        ready = true;
        console.log(JSON.stringify({ ready: true }));
      }
    },
  });
  // Progress for a driver that waits for the worker to catch up (bench:model-monitor's live pass).
  const progress = setInterval(() => console.log(JSON.stringify({ consumed: running.stats().consumed })), 250);
  const watcher = setInterval(() => {
    const s = running.stats();
    if (firstAt === 0 && s.consumed > 0) {
      firstAt = performance.now();
      cpuAtFirst = cpuSeconds();
    }
    // The passthrough ends at its last output; model-monitor holds records in its windows until the
    // drain, so its pass ends at the last record it settled before the input went idle.
    const settled = s.consumed - s.unsettled;
    const progressing = monitor ? settled > settledAtLast : s.delivered < count;
    if (progressing) {
      lastAt = performance.now();
      cpuAtLast = cpuSeconds();
      settledAtLast = settled;
    }
  }, 5);
  const summary = await running.done;
  clearInterval(watcher);
  clearInterval(progress);
  const seconds = (lastAt - firstAt) / 1000;
  const records = monitor ? settledAtLast : summary.consumed;
  console.log(
    JSON.stringify({
      mode,
      records,
      outputs: summary.produced,
      seconds,
      per_s: records / seconds,
      cpu_s: cpuAtLast - cpuAtFirst,
      ...(monitor ? {} : { p50_ms: latency.percentile(50) / 1e6, p99_ms: latency.percentile(99) / 1e6 }),
      peak_rss_mb: peakRssMb(),
      drained: summary.drained,
      reason: summary.reason,
      ...(summary.error === undefined ? {} : { error: summary.error }),
    }),
  );
}

await (mode === 'consume-only' ? consumeOnly() : throughRunner());
process.exit(0);
