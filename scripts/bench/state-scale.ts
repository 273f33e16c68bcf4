/**
 * `npm run bench:state` — operator state at 10 000, 100 000 and 1 000 000 keys: snapshot size, chunks,
 * snapshot time, restore time from a real broker, RSS. Printed figures, not a timed test.
 *
 *   npm run bench:state -- [--keys 10000,100000,1000000] [--brokers host:port]
 *
 * The state is real: the stateful test topology's `detect` step (`parallelDetect` with an EWMA
 * z-score `perKeyDetector` on latency, `maxKeys` = the key count: its LRU allocates that many slots) fed one InferenceEvent per key, so
 * each key holds the detector baseline the runner would snapshot. Each size runs in its own process
 * (so its RSS is its own): it builds the state, snapshots it through the runner's `StepStates` and a
 * `KafkaSink` into `bench-state-<keys>-<time>.detect.changelog` (snapshot time: serialising, hashing,
 * chunking and producing until the broker has acknowledged every chunk), then restores it into a
 * fresh operator from the broker (restore time: reading the changelog, assembling, checking, applying)
 * and checks that every key came back. One input partition; `message.max.bytes` from
 * SIGNALPATH_KAFKA_MESSAGE_MAX_BYTES, default 1 000 000. Brokers: --brokers, KAFKA_BROKERS, or a local
 * broker started for the run. Results go to stdout and reports/bench-state.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Subject } from 'rxjs';
import { generateInferenceEvents } from '../../lab/generator/simple-stream.js';
import { testEnvelope, type Envelope } from '../../core/envelope.js';
import { KafkaSink } from '../../runtime/kafka/sink.js';
import { ensureTopics } from '../../runtime/kafka/admin.js';
import { clientConfigFromEnv } from '../../runtime/config.js';
import { StepStates } from '../../runtime/state/step-states.js';
import { parallelDetect, perKeyDetector } from '../../operators/index.js';
import type { OperatorSnapshot } from '../../core/state.js';
import type { InferenceEvent } from '../../schemas/index.js';
import { startLocalBroker } from '../../runtime/local-broker/local-broker.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({
  options: {
    keys: { type: 'string', default: '10000,100000,1000000' },
    brokers: { type: 'string' },
    /** Internal: measure one size in this process and write its result here. */
    one: { type: 'string' },
    out: { type: 'string' },
  },
});

interface SizeResult {
  readonly keys: number;
  readonly snapshot_bytes: number;
  readonly chunks: number;
  readonly chunk_payload_bytes: number;
  readonly build_ms: number;
  /** Until the broker acknowledged every chunk. */
  readonly snapshot_ms: number;
  /** Of which on the main thread (serialise, hash, cut, produce): what a running topology waits for. */
  readonly snapshot_main_thread_ms: number;
  readonly restore_ms: number;
  readonly restored_keys: number;
  readonly changelog_records_read: number;
  readonly rss_after_build_mb: number;
  readonly rss_after_snapshot_mb: number;
  readonly rss_after_restore_mb: number;
  readonly peak_rss_mb: number;
}

const mb = (bytes: number): number => Math.round(bytes / 1024 / 1024);
const rss = (): number => mb(process.memoryUsage().rss);
const progress = (message: string): void => console.error(`[${new Date().toISOString()}] ${message}`);

/** A detect step attached to `states`: feed(events) resolves once each has passed it. */
function detectStep(states: StepStates, maxKeys: number) {
  const input = new Subject<Envelope<InferenceEvent>>();
  let passed = 0;
  input
    .pipe(parallelDetect<InferenceEvent>({ detectors: [perKeyDetector<InferenceEvent>({ detector: 'ewma-zscore', fields: ['latency_ms'], maxKeys })], state: states.handleFor('detect') }))
    .subscribe((detection) => {
      detection.settlement.settle('delivered');
      passed++;
    });
  return {
    async feed(events: readonly InferenceEvent[], offset: number): Promise<void> {
      const target = passed + events.length;
      for (const [i, event] of events.entries()) input.next(testEnvelope(event, { offset: offset + i, eventTimeMs: event.ts }));
      while (passed < target) await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

function keysOf(snapshot: OperatorSnapshot): number {
  return (snapshot['detectors'] as [string, { entries: unknown[] }][]).reduce((sum, [, state]) => sum + state.entries.length, 0);
}

async function measureOne(keys: number, brokers: string): Promise<SizeResult> {
  const clientConfig = clientConfigFromEnv(process.env);
  const namespace = `bench-state-${keys}-${Date.now().toString(36)}`;
  const sink = new KafkaSink({ brokers, clientId: 'bench-state', ...(clientConfig === undefined ? {} : { clientConfig }) });
  await sink.connect((error) => {
    throw error;
  });
  const options = { namespace, brokers, log: progress, write: (topic: string, key: string, value: Buffer | null) => sink.sendState(topic, key, value), ...(clientConfig === undefined ? {} : { clientConfig }) };

  // Build: one event per key, in batches (the pool of generated events cycled, each under its own model id).
  const writer = new StepStates(options);
  const step = detectStep(writer, keys);
  const pool = [...generateInferenceEvents({ count: 50_000, seed: 7 }).events];
  const builtAt = performance.now();
  const BATCH = 20_000;
  for (let from = 0; from < keys; from += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, keys - from) }, (_, i) => ({ ...pool[(from + i) % pool.length]!, model_id: `model-${from + i}` }));
    await step.feed(batch, from);
    if ((from / BATCH) % 10 === 9) progress(`${keys} keys: built ${from + batch.length}`);
  }
  const buildMs = performance.now() - builtAt;
  const held = keysOf(writer.handleFor('detect').snapshot());
  if (held !== keys) throw new Error(`the detect step holds ${held} keys, expected ${keys}`);
  const rssAfterBuild = rss();
  progress(`${keys} keys: state built in ${buildMs.toFixed(0)} ms, RSS ${rssAfterBuild} MB; snapshotting…`);

  await ensureTopics(brokers, writer.topicSpecs(), undefined, clientConfig);
  const snapshotAt = performance.now();
  writer.snapshot(new Map([[0, keys]]));
  if (!(await sink.flush(600_000))) throw new Error('the snapshot was not acknowledged within 10 minutes');
  const snapshotMs = performance.now() - snapshotAt;
  const rssAfterSnapshot = rss();
  const chunks = writer.stats.chunksWritten;
  const snapshotBytes = writer.stats.lastSnapshotBytes;
  progress(`${keys} keys: snapshot of ${snapshotBytes} bytes in ${chunks} chunks written in ${snapshotMs.toFixed(0)} ms; restoring from the broker…`);

  const reader = new StepStates({ ...options, log: () => {} });
  detectStep(reader, keys);
  const restoreAt = performance.now();
  const [restored] = await reader.restore([0]);
  const restoreMs = performance.now() - restoreAt;
  if (restored?.action !== 'restored') throw new Error(`restore: ${restored?.action ?? 'nothing'}`);
  const restoredKeys = keysOf(reader.handleFor('detect').snapshot());
  if (restoredKeys !== keys) throw new Error(`restored ${restoredKeys} keys, expected ${keys}`);
  const rssAfterRestore = rss();
  progress(`${keys} keys: restored ${restoredKeys} keys in ${restoreMs.toFixed(0)} ms, RSS ${rssAfterRestore} MB`);
  await sink.close();
  return {
    keys,
    snapshot_bytes: restored.from!.manifest!.bytes,
    chunks,
    chunk_payload_bytes: writer.chunkPayloadBytes,
    build_ms: Math.round(buildMs),
    snapshot_ms: Math.round(snapshotMs),
    snapshot_main_thread_ms: Math.round(writer.stats.lastSnapshotMs),
    restore_ms: Math.round(restoreMs),
    restored_keys: restoredKeys,
    changelog_records_read: (restored.from?.manifest?.chunks ?? 0) + 1,
    rss_after_build_mb: rssAfterBuild,
    rss_after_snapshot_mb: rssAfterSnapshot,
    rss_after_restore_mb: rssAfterRestore,
    peak_rss_mb: mb(process.resourceUsage().maxRSS * 1024),
  };
}

async function main(): Promise<void> {
  if (values.one !== undefined) {
    const result = await measureOne(Number(values.one), values.brokers!);
    writeFileSync(values.out!, JSON.stringify(result));
    return;
  }
  const sizes = values.keys.split(',').map(Number);
  const external = values.brokers ?? process.env['KAFKA_BROKERS'];
  const broker = external === undefined ? await startLocalBroker({ heap: '1g' }) : null;
  const brokers = external ?? broker!.brokers;
  progress(`brokers ${brokers}${broker === null ? '' : ' (a local broker started for this run)'}`);
  const results: SizeResult[] = [];
  try {
    for (const keys of sizes) {
      const out = path.join(root, 'reports', `.bench-state-${keys}.json`);
      mkdirSync(path.dirname(out), { recursive: true });
      // Each size in its own process, so its RSS is its own.
      const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--one', String(keys), '--brokers', brokers, '--out', out], { stdio: ['ignore', 'inherit', 'inherit'] });
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      if (code !== 0) throw new Error(`the ${keys}-key measurement failed (exit ${code})`);
      results.push(JSON.parse(readFileSync(out, 'utf8')) as SizeResult);
      rmSync(out);
    }
  } finally {
    await broker?.stop();
  }
  console.log('keys       snapshot bytes  chunks  snapshot ms (main thread)  restore ms  RSS after restore MB  peak RSS MB');
  for (const r of results) {
    console.log(`${String(r.keys).padEnd(10)} ${String(r.snapshot_bytes).padStart(14)}  ${String(r.chunks).padStart(6)}  ${`${r.snapshot_ms} (${r.snapshot_main_thread_ms})`.padStart(25)}  ${String(r.restore_ms).padStart(10)}  ${String(r.rss_after_restore_mb).padStart(20)}  ${String(r.peak_rss_mb).padStart(11)}`);
  }
  const file = path.join(root, 'reports', 'bench-state.json');
  writeFileSync(file, `${JSON.stringify({ measured_at: new Date().toISOString(), message_max_bytes: Number(process.env['SIGNALPATH_KAFKA_MESSAGE_MAX_BYTES'] ?? 1_000_000), input_partitions: 1, results }, null, 2)}\n`);
  console.log(`→ ${path.relative(process.cwd(), file)}`);
}

await main();
