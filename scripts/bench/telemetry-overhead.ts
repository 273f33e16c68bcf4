/**
 * Telemetry overhead, measured in the same run: the same topology over the same input on the same
 * local broker, in three variants: telemetry off; capture on (per-step metrics, stage stamps, tail
 * capture with spans built through a real SDK tracer and a batch processor whose exporter discards
 * them); and capture plus a traceparent header on every output (the Kafka client converts each
 * header in produce(), so that one costs on its own). Rounds interleave the two; a warm-up round is discarded (the broker's JIT is cold
 * at first: the first run after a broker starts is several times slower). Throughput = input records / time from the first record consumed
 * to the last one settled. Prints each round, the medians and the median of the per-round ratios.
 *
 * First, without Kafka, the main-thread cost the telemetry adds per record: the same three steps
 * over synthetic envelopes (origin, settlement, settle on output) with and without the wrapper,
 * stamps, settle hook and tail decision, in ns per record. On a shared machine that figure is
 * steadier than the end-to-end ratio, whose round-to-round noise can exceed 3%.
 *
 *   npx tsx scripts/bench/telemetry-overhead.ts [--events 500000] [--rounds 5] [--cpu-only]
 */
import { parseArgs } from 'node:util';
import { Subject } from 'rxjs';
import { createSettlement } from '../../core/settlement.js';
import type { Envelope } from '../../core/envelope.js';
import { assembleChain } from '../../runtime/runner/chain.js';
import { TopologyTelemetry } from '../../runtime/telemetry/topology-telemetry.js';
import type { TracedOrigin } from '../../runtime/telemetry/stage-clock.js';
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { startLocalBroker } from '../../runtime/local-broker/local-broker.js';
import { ensureTopics } from '../../runtime/kafka/admin.js';
import { writeTopic } from '../../runtime/kafka/topic-writer.js';
import { runTopology } from '../../runtime/runner.js';
import { defineTopology, filterRecords, mapRecords, toOutput } from '../../runtime/topology.js';
import { SETTINGS, type RunConfig } from '../../runtime/config.js';
import { InferenceEventContract, type InferenceEvent } from '../../schemas/index.js';
import { generateInferenceEvents } from '../../lab/generator/simple-stream.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '500000' }, rounds: { type: 'string', default: '5' }, 'cpu-only': { type: 'boolean', default: false } } });
const events = Number(values.events);
const rounds = Number(values.rounds);
if (!Number.isInteger(events) || events < 10_000) throw new Error(`--events ${values.events}: expected a whole number ≥ 10000`);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds ${values.rounds}: expected a whole number ≥ 1`);

/** Three steps, so the wrapper runs four times per record: filter, map, route. */
const topology = defineTopology<InferenceEvent>({
  name: 'overhead',
  description: 'Bench topology: keep records with a positive latency, tag them, route them.',
  input: { topic: 'overhead-in', contract: InferenceEventContract, eventTime: (e) => e.ts },
  outputs: { output: { topic: 'overhead-out', contract: InferenceEventContract } },
  steps: (input) =>
    input
      .step('keep', filterRecords((e) => e.latency_ms > 0))
      .step('tag', mapRecords((e) => e))
      .step('route', toOutput('output')),
});

class DiscardingExporter implements SpanExporter {
  spans = 0;
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.spans += spans.length;
    done({ code: ExportResultCode.SUCCESS });
  }
  async shutdown(): Promise<void> {}
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** ns per record through the chain, telemetry on or off, over `count` synthetic records. */
async function mainThreadCost(telemetryOn: boolean, sample: readonly InferenceEvent[], count: number): Promise<number> {
  const telemetry = telemetryOn ? new TopologyTelemetry({ topology: 'overhead', stepNames: topology.chain.map((s) => s.name), maxUnsettled: 20_000, tracer: provider.getTracer('cpu') }) : null;
  const input$ = new Subject<Envelope<InferenceEvent>>();
  const stream = assembleChain(topology, input$.asObservable(), {
    meter: { add: () => {} },
    deadLetter: (_step, envelope) => envelope.settlement.settle('dead-lettered'),
    ...(telemetry === null ? {} : { wrap: (index, operator) => telemetry.steps.wrap(index, operator) }),
  });
  const subscription = stream.subscribe((item) => (item as Envelope<unknown>).settlement.settle('delivered'));
  const key = Buffer.from('model-1');
  const started = performance.now();
  let batchAtMs = 0;
  for (let i = 0; i < count; i++) {
    // The source reads the clock once per consume batch (1000 records by default).
    if (telemetry !== null && i % 1000 === 0) batchAtMs = performance.now();
    const origin: TracedOrigin = { topic: 't', partition: i & 3, offset: i, key, value: null, telemetrySeq: telemetry === null ? -1 : telemetry.consumed(batchAtMs), traceparent: null };
    const settlement = createSettlement(telemetry === null ? () => {} : (outcome) => telemetry.settled(origin, outcome));
    telemetry?.steps.countEntered();
    input$.next({ key: 'model-1', value: sample[i % sample.length]!, eventTimeMs: 0, watermarkMs: 0, headers: {}, origin, settlement });
  }
  const ns = ((performance.now() - started) * 1e6) / count;
  subscription.unsubscribe();
  await telemetry?.close();
  return ns;
}

const exporter = new DiscardingExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
{
  const sample = [...generateInferenceEvents({ count: 1000, seed: 5 }).events];
  const offNs: number[] = [];
  const onNs: number[] = [];
  for (let round = 0; round < 7; round++) {
    offNs.push(await mainThreadCost(false, sample, 1_000_000));
    onNs.push(await mainThreadCost(true, sample, 1_000_000));
  }
  const off = median(offNs.slice(2));
  const on = median(onNs.slice(2));
  console.log(`main thread, 3 steps, no Kafka (median of 5 × 1M records after 2 warm-ups): telemetry off ${off.toFixed(0)} ns/record · on ${on.toFixed(0)} ns/record · telemetry adds ${(on - off).toFixed(0)} ns/record`);
}

if (values['cpu-only']) {
  await provider.shutdown();
  process.exit(0);
}
const broker = await startLocalBroker();
try {
  const brokers = broker.brokers;
  const input = `overhead-in-${process.pid}`;
  await ensureTopics(brokers, [{ topic: input, partitions: 4 }]);
  await writeTopic(generateInferenceEvents({ count: events, seed: 5 }).events, { brokers, topic: input, contract: InferenceEventContract });
  console.log(`${events} events on ${input} (4 partitions); broker ${brokers}`);

  type Variant = 'off' | 'capture' | 'full';
  let run = 0;
  async function measure(variant: Variant): Promise<{ perSecond: number; captured: number }> {
    run++;
    const config: RunConfig = {
      brokers,
      group: `overhead-${process.pid}-${run}`,
      topics: { input, output: `overhead-out-${process.pid}-${run}`, dlq: `overhead-dlq-${process.pid}` },
      untilIdleMs: 600_000,
      maxUnsettled: SETTINGS.maxUnsettled.default,
      partitionHighWater: SETTINGS.partitionHighWater.default,
      batchSize: SETTINGS.batchSize.default,
      commitIntervalMs: SETTINGS.commitIntervalMs.default,
      drainTimeoutMs: 30_000,
      allowedLatenessMs: 5_000,
      partitionIdleTimeoutMs: 30_000,
      startFrom: 'earliest',
      partitions: 4,
      telemetry: variant === 'off' ? 'off' : 'on',
      traceContext: variant === 'full',
      tracer: provider.getTracer('signalpath-bench'),
      log: () => {},
    };
    const running = await runTopology(topology, config);
    let startedAt = 0;
    const finishedAt = await new Promise<number>((resolve) => {
      const poll = setInterval(() => {
        const stats = running.stats();
        if (startedAt === 0 && stats.consumed > 0) startedAt = performance.now();
        if (stats.consumed >= events && stats.unsettled === 0) {
          clearInterval(poll);
          resolve(performance.now());
        }
      }, 2);
    });
    const captured = running.telemetry ? Object.values(running.telemetry.tail.captured).reduce((a, b) => a + b, 0) : 0;
    await running.stop();
    return { perSecond: events / ((finishedAt - startedAt) / 1000), captured };
  }

  const variants: Variant[] = ['off', 'capture', 'full'];
  for (const variant of variants) await measure(variant);
  console.log('warm-up round done (discarded)');
  const rates: Record<Variant, number[]> = { off: [], capture: [], full: [] };
  const captureRatios: number[] = [];
  const fullRatios: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    // Rotate the order, so no variant always runs on a warmer (or busier) broker.
    const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
    const result = {} as Record<Variant, { perSecond: number; captured: number }>;
    for (const variant of order) result[variant] = await measure(variant);
    for (const variant of variants) rates[variant].push(result[variant].perSecond);
    captureRatios.push(result.capture.perSecond / result.off.perSecond);
    fullRatios.push(result.full.perSecond / result.off.perSecond);
    console.log(
      `round ${round}: off ${Math.round(result.off.perSecond)} · capture ${Math.round(result.capture.perSecond)} (${result.capture.captured} traced) · capture + traceparent ${Math.round(result.full.perSecond)} records/s · capture/off ${captureRatios.at(-1)!.toFixed(3)} · full/off ${fullRatios.at(-1)!.toFixed(3)}`,
    );
  }
  await provider.forceFlush();
  const cost = (ratio: number): string => `${((1 - ratio) * 100).toFixed(1)}%`;
  console.log(
    `median: telemetry off ${Math.round(median(rates.off))} records/s · capture on (metrics + tail capture) ${Math.round(median(rates.capture))} records/s, ratio ${median(captureRatios).toFixed(3)} (cost ${cost(median(captureRatios))}, target ≤ 3%) · capture + traceparent on every output ${Math.round(median(rates.full))} records/s, ratio ${median(fullRatios).toFixed(3)} (cost ${cost(median(fullRatios))}) · ${exporter.spans} spans exported`,
  );
} finally {
  await provider.shutdown();
  await broker.stop();
}
