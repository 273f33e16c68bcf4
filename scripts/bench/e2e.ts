/**
 * `npm run bench:e2e` — ≥ 1M InferenceEvents through the passthrough topology (decode → encode →
 * produce, with settled-offset commits) on a local broker, beside — in the same run, on the same
 * broker and data — the Kafka client's own consume-only rate and Kafka's Java ConsumerPerformance and
 * ProducerPerformance tools from the same Maven jars. Rounds interleave the variants; medians are
 * reported. Figures go to stdout and to reports/bench-e2e.json.
 *
 *   npm run bench:e2e -- [--events 1000000] [--rounds 3]
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { startLocalBroker } from '../../runtime/local-broker/local-broker.js';
import { ensureTopics } from '../../runtime/kafka/admin.js';
import { writeTopic } from '../../runtime/kafka/topic-writer.js';
import { InferenceEventContract } from '../../schemas/index.js';
import { generateInferenceEvents } from '../../lab/generator/simple-stream.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({ options: { events: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '3' } } });
const events = Number(values.events);
const rounds = Number(values.rounds);
if (!Number.isInteger(events) || events < 1000) throw new Error(`--events ${values.events}: expected a whole number ≥ 1000`);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds ${values.rounds}: expected a whole number ≥ 1`);

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const say = (message: string): void => console.log(message);

interface WorkerResult {
  per_s: number;
  seconds: number;
  peak_rss_mb: number;
  p50_ms?: number;
  p99_ms?: number;
  outputs?: number;
}

/**
 * Node flags of both measured processes. On a machine with much memory Node 24 sizes the young
 * generation at up to 3 × 64 MB; 16 MB semi-spaces cost no throughput here and ~100 MB less RSS.
 * Deployments set the same through NODE_OPTIONS (see README, "Running in production").
 */
const NODE_FLAGS = ['--max-semi-space-size=16'];

function worker(args: string[]): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_FLAGS, '--import', 'tsx', path.join(root, 'scripts/bench/e2e-worker.ts'), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!) as WorkerResult) : reject(new Error(`worker ${args[0]} exited ${code}`))));
  });
}

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

  say('  warm-up pass (the broker is cold after start)…');
  await worker(['consume-only', brokers, input, String(events)]);

  const consumeOnly: WorkerResult[] = [];
  const passthrough: WorkerResult[] = [];
  const javaConsume: number[] = [];
  const javaProduce: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    consumeOnly.push(await worker(['consume-only', brokers, input, String(events)]));
    passthrough.push(await worker(['passthrough', brokers, input, String(events), `bench.out-${round}`]));
    javaConsume.push(await javaConsumerPerformance(brokers, input));
    javaProduce.push(await javaProducerPerformance(brokers, 'bench.java-producer'));
    say(`  round ${round}/${rounds}: passthrough ${Math.round(passthrough.at(-1)!.per_s).toLocaleString('en')}/s · client consume-only ${Math.round(consumeOnly.at(-1)!.per_s).toLocaleString('en')}/s · Java consumer ${Math.round(javaConsume.at(-1)!).toLocaleString('en')}/s · Java producer ${Math.round(javaProduce.at(-1)!).toLocaleString('en')}/s`);
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
  say('');
  say(`passthrough latency (decoded → output acknowledged): p50 ${report.p50_ms} ms, p99 ${report.p99_ms} ms · peak RSS ${report.peak_rss_mb} MB (consume-only: ${report.client_consume_only_peak_rss_mb} MB)`);
  say(`target: ≥ 0.60× the client's consume-only rate with RSS < 400 MB → ${report.ratio_to_client >= 0.6 ? 'met' : 'NOT met'} (${report.ratio_to_client}×), RSS ${report.peak_rss_mb < 400 ? 'met' : 'NOT met'}`);
  mkdirSync(path.join(root, 'reports'), { recursive: true });
  writeFileSync(path.join(root, 'reports/bench-e2e.json'), `${JSON.stringify(report, null, 2)}\n`);
  say('written reports/bench-e2e.json');
} finally {
  await broker.stop();
}
