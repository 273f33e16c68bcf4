/**
 * One measured pass of the end-to-end benchmark, in its own process so its RSS and JIT are its own.
 *   consume-only <brokers> <topic> <count>            the client's own rate (callback API, consume(n))
 *   passthrough  <brokers> <topic> <count> <output>   the passthrough topology through the runner
 * Prints one JSON line with its figures.
 */
import { createHistogram } from 'node:perf_hooks';
import { KafkaConsumer, type Message } from '../../runtime/kafka/client.js';
import { runTopology } from '../../runtime/runner.js';
import { defineTopology, toOutput } from '../../runtime/topology.js';
import { createSettlement } from '../../core/settlement.js';
import { readSetting, SETTINGS } from '../../runtime/config.js';
import passthrough from '../../topologies/passthrough/index.js';
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

async function throughRunner(): Promise<void> {
  // Latency from the moment a decoded record enters the steps to the broker's acknowledgement of its
  // output, sampled on every record into an HDR-style histogram (nanoseconds).
  const latency = createHistogram();
  const stamped = defineTopology<InferenceEvent>({
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
  });
  let firstAt = 0;
  let lastAt = 0;
  const running = await runTopology(stamped, {
    brokers: brokers!,
    group,
    topics: { input: topic!, output: output! },
    untilIdleMs: 1500,
    // The runner's defaults, or SIGNALPATH_* overrides, exactly as `signalpath run` reads them.
    maxUnsettled: readSetting('maxUnsettled', undefined, process.env) as number,
    partitionHighWater: readSetting('partitionHighWater', undefined, process.env) as number,
    batchSize: readSetting('batchSize', undefined, process.env) as number,
    telemetry: readSetting('telemetry', undefined, process.env) as 'on' | 'off',
    traceContext: readSetting('traceContext', undefined, process.env) === 'on',
    metricsPort: 0,
    commitIntervalMs: SETTINGS.commitIntervalMs.default,
    drainTimeoutMs: SETTINGS.drainTimeoutMs.default,
    allowedLatenessMs: 0,
    partitionIdleTimeoutMs: 30_000,
    startFrom: 'earliest',
    partitions: 4,
    log: () => {},
  });
  const watcher = setInterval(() => {
    const s = running.stats();
    if (firstAt === 0 && s.consumed > 0) firstAt = performance.now();
    if (s.delivered < count) lastAt = performance.now();
  }, 5);
  const summary = await running.done;
  clearInterval(watcher);
  const seconds = (lastAt - firstAt) / 1000;
  console.log(
    JSON.stringify({
      mode,
      records: summary.consumed,
      outputs: summary.produced,
      seconds,
      per_s: summary.consumed / seconds,
      p50_ms: latency.percentile(50) / 1e6,
      p99_ms: latency.percentile(99) / 1e6,
      peak_rss_mb: peakRssMb(),
      drained: summary.drained,
    }),
  );
}

await (mode === 'consume-only' ? consumeOnly() : throughRunner());
process.exit(0);
