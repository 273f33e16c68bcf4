/**
 * `npm run bench:instances` — the passthrough as `signalpath run passthrough --instances N` (the CLI,
 * child processes in one consumer group) for N = 1 and N = 2 (or `--instances 1,2,4`), interleaved in
 * rounds on the same backlog of a local broker. Each pass reads the whole input with a new group; its
 * rate is the input count over the time from the first output record to the last (the output topic's
 * end offsets, polled every 100 ms), so process start-up and the idle wait at the end are not in it.
 * Medians over rounds; the scaling ratio is taken within a round. Writes reports/bench-instances.json.
 *
 *   npm run bench:instances -- [--events 400000] [--rounds 3] [--instances 1,2]
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalBroker } from '../../runtime/local-broker/local-broker.js';
import { endOffsets, ensureTopics } from '../../runtime/kafka/admin.js';
import { writeTopic } from '../../runtime/kafka/topic-writer.js';
import { InferenceEventContract } from '../../schemas/index.js';
import { generateInferenceEvents } from '../../lab/generator/simple-stream.js';
import { median, NODE_FLAGS, perSecond, ROOT, wholeFlag, writeReport } from './support.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '400000' }, rounds: { type: 'string', default: '3' }, instances: { type: 'string', default: '1,2' } } });
const events = wholeFlag('events', values.events, 1000);
const rounds = wholeFlag('rounds', values.rounds, 1);
const counts = values.instances.split(',').map((n) => wholeFlag('instances', n, 1));
const say = (message: string): void => console.log(message);

/** One pass: records/s from the first output to the last, and the supervisor's summary. */
async function pass(brokers: string, input: string, instances: number, tag: string): Promise<{ per_s: number; cpu_s: number; peak_rss_mb: number }> {
  const output = `bench.instances-out-${tag}`;
  await ensureTopics(brokers, [{ topic: output, partitions: 4 }]);
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/signalpath.js'), 'run', 'passthrough', '--brokers', brokers, '--group', `bench-instances-${tag}`, '--topic', `input=${input}`, '--topic', `output=${output}`, '--instances', String(instances), '--until-idle', '3000', '--metrics-port', '0', '--quiet'], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: NODE_FLAGS.join(' ') },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve((exitCode = code))));
  let firstAt = 0;
  let lastAt: number;
  let lastWritten = -1;
  let lastProgressAt = performance.now();
  for (;;) {
    const written = (await endOffsets(brokers, output)).reduce((sum, p) => sum + p.offset, 0);
    if (written > 0 && firstAt === 0) firstAt = performance.now();
    if (written >= events) {
      lastAt = performance.now();
      break;
    }
    // Never wait for outputs that cannot come: the run ended, or it has made no progress for 2 minutes.
    if (exitCode !== undefined) throw new Error(`--instances ${instances} exited ${exitCode} with ${written} of ${events} outputs written`);
    if (written !== lastWritten) [lastWritten, lastProgressAt] = [written, performance.now()];
    if (performance.now() - lastProgressAt > 120_000) {
      child.kill('SIGTERM');
      throw new Error(`--instances ${instances}: no output for 2 minutes at ${written} of ${events}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const code = await exited;
  if (code !== 0) throw new Error(`--instances ${instances} exited ${code}`);
  const summary = JSON.parse(out.trim().split('\n').at(-1)!) as { cpu_s: number; peak_rss_mb: number; consumed: number };
  return { per_s: events / ((lastAt - firstAt) / 1000), cpu_s: summary.cpu_s, peak_rss_mb: summary.peak_rss_mb };
}

say(`bench:instances — passthrough on ${events.toLocaleString('en')} events, --instances ${counts.join(' vs ')}, ${rounds} rounds, medians; ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const broker = await startLocalBroker({ heap: '1g' });
try {
  const brokers = broker.brokers;
  const input = 'bench.instances-in';
  await ensureTopics(brokers, [{ topic: input, partitions: 4 }]);
  await writeTopic(generateInferenceEvents({ count: events, seed: 42 }).events, { brokers, topic: input, contract: InferenceEventContract });
  say(`  fed ${events.toLocaleString('en')} events; warm-up pass…`);
  await pass(brokers, input, 1, 'warm-up');
  const results = new Map<number, { per_s: number; cpu_s: number; peak_rss_mb: number }[]>(counts.map((n) => [n, []]));
  for (let round = 1; round <= rounds; round++) {
    const line: string[] = [];
    for (const n of counts) {
      const result = await pass(brokers, input, n, `${n}-${round}`);
      results.get(n)!.push(result);
      line.push(`${n}: ${perSecond(result.per_s)}/s`);
    }
    say(`  round ${round}/${rounds}: ${line.join(' · ')}`);
  }
  const base = results.get(counts[0]!)!;
  const rows = counts.map((n) => ({
    instances: n,
    records_per_s: Math.round(median(results.get(n)!.map((r) => r.per_s))),
    ratio_to_first: Number(median(results.get(n)!.map((r, i) => r.per_s / base[i]!.per_s)).toFixed(3)),
    cpu_s: Number(median(results.get(n)!.map((r) => r.cpu_s)).toFixed(1)),
    peak_rss_mb_sum: Math.round(median(results.get(n)!.map((r) => r.peak_rss_mb))),
  }));
  say('');
  say(`| instances | records/s | vs ${counts[0]} | CPU s (all processes) | peak RSS, sum of instances (MB) |`);
  say('|---:|---:|---:|---:|---:|');
  for (const r of rows) say(`| ${r.instances} | ${r.records_per_s.toLocaleString('en')} | ${r.ratio_to_first.toFixed(2)}× | ${r.cpu_s} | ${r.peak_rss_mb_sum} |`);
  writeReport('bench-instances.json', { events, rounds, rows, measured_at: new Date().toISOString(), machine: `${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, Node ${process.version}` });
} finally {
  await broker.stop();
}
