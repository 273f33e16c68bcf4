/**
 * `npm run bench:operators` — records/s of each operator alone and of the chain
 * sample (adaptive, 5 %) → enrich (cached, in-memory lookup) → partition (4 lanes) → detect (EWMA
 * z-score) → dedup (cluster-aware, 60 s tumbling) over synthetic InferenceEvents, beside two baselines
 * from the same run: a plain for-loop doing the chain's arithmetic (a draw, a Map lookup, a hash, an
 * EWMA update per key, a Map increment per cluster) and a bare RxJS chain of five `map`s doing the
 * same. RSS is printed at intervals during the chain run. Figures go to stdout and to
 * reports/bench-operators.json. Printed figures, not a timed test.
 *
 *   npm run bench:operators -- [--records 1000000] [--rounds 1]
 *   npm run bench:operators -- --records 10000000 --only chain   # memory flatness: RSS every 1M records
 *
 * Every variant reads the same source: a synchronous Observable that wraps pre-generated events (a
 * pool of 2^17 from `generateInferenceEvents`, cycled) in envelopes with a 1 ms event-time step
 * (1000 events/s of event time) and a watermark 1 s behind; the source alone is measured too, so its
 * cost can be read off the other figures. Every output is settled as 'delivered' (what the sink
 * does) and the run checks that every input settled exactly once.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { map, NEVER, Observable, of } from 'rxjs';
import { generateInferenceEvents } from '../../lab/generator/simple-stream.js';
import { withValue, type Envelope } from '../../core/envelope.js';
import { createSettlement } from '../../core/settlement.js';
import type { InferenceEvent } from '../../schemas/index.js';
import {
  adaptiveSample,
  banditBudget,
  enrich,
  keyedPartition,
  parallelDetect,
  perKeyDetector,
  SeededRandom,
  windowedDedup,
  type Detection,
  type Finding,
  type Sampled,
} from '../../operators/index.js';
import { hashKey } from '../../operators/keyed-partition/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '1' },
    only: { type: 'string' },
  },
});
const records = Number(values.records);
const rounds = Number(values.rounds);
if (!Number.isInteger(records) || records < 1000) throw new Error(`--records ${values.records}: expected a whole number ≥ 1000`);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds ${values.rounds}: expected a whole number ≥ 1`);
const only = values.only === undefined ? null : new Set(values.only.split(','));
const say = (message: string): void => console.log(message);
const rssMb = (): number => Math.round(process.memoryUsage().rss / 2 ** 20);

// ---- the source ----
const POOL = 1 << 17;
const START_MS = Date.UTC(2026, 0, 1);
const LATENESS_MS = 1000;
const pool: InferenceEvent[] = [...generateInferenceEvents({ count: POOL, seed: 7 }).events];
let settledCount = 0;
const onSettled = (): void => {
  settledCount++;
};

function envelopeAt<T>(i: number, value: T): Envelope<T> {
  const eventTimeMs = START_MS + i;
  return {
    key: (pool[i & (POOL - 1)]!).model_id,
    value,
    eventTimeMs,
    watermarkMs: eventTimeMs - LATENESS_MS,
    headers: {},
    origin: { topic: 'bench', partition: 0, offset: i, key: null, value: null },
    settlement: createSettlement(onSettled, 'bench'),
  };
}

/** `count` envelopes, synchronously; calls `tick(i)` every `tickEvery` records (RSS printing). */
function source<T>(count: number, valueAt: (i: number) => T, tick?: (i: number) => void, tickEvery = Infinity): Observable<Envelope<T>> {
  return new Observable<Envelope<T>>((subscriber) => {
    for (let i = 0; i < count && !subscriber.closed; i++) {
      if (tick !== undefined && i > 0 && i % tickEvery === 0) tick(i);
      subscriber.next(envelopeAt(i, valueAt(i)));
    }
    subscriber.complete();
  });
}
const eventAt = (i: number): InferenceEvent => pool[i & (POOL - 1)]!;

// ---- the operators, configured as in the chain ----
const registry = new Map<string, { owner: string; tier: number }>(
  Array.from({ length: 50 }, (_, i) => [`model-${String(i).padStart(3, '0')}`, { owner: `team-${i % 7}`, tier: i % 3 }]),
);
const sample = () =>
  adaptiveSample<InferenceEvent>({
    strategy: { kind: 'adaptive', scoreOf: (e) => e.latency_ms / 100, shardOf: (e) => e.segment },
    budget: { fraction: 0.05 },
    windowMs: 10_000,
    random: SeededRandom.fromSeed(42),
  });
const enrichOp = <T>(keyOf: (v: T) => string) =>
  enrich<T, { owner: string; tier: number }>({ keyOf, lookup: (key) => of(registry.get(key)), maxCacheEntries: 1000 });
const partition = <T, U>(work: (e: Envelope<T>) => Envelope<U>) => keyedPartition<T, U>({ lanes: 4, work });
const detect = () =>
  parallelDetect<InferenceEvent>({ detectors: [perKeyDetector({ detector: 'ewma-zscore', fields: ['latency_ms'] })] });
const dedup = () => windowedDedup<InferenceEvent>({ window: { kind: 'tumbling', sizeMs: 60_000 } });

// ---- running one variant ----
interface Result {
  readonly records_per_s: number;
  readonly seconds: number;
  readonly outputs: number;
  readonly rss_mb: number;
}

function drain<T>(stream: Observable<Envelope<T>>, count: number): Promise<Result> {
  settledCount = 0;
  return new Promise((resolve, reject) => {
    let outputs = 0;
    const t0 = performance.now();
    stream.subscribe({
      next: (envelope) => {
        outputs++;
        envelope.settlement.settle('delivered');
      },
      error: reject,
      complete: () => {
        const seconds = (performance.now() - t0) / 1000;
        if (settledCount !== count) reject(new Error(`${settledCount} of ${count} inputs settled`));
        resolve({ records_per_s: Math.round(count / seconds), seconds: Number(seconds.toFixed(3)), outputs, rss_mb: rssMb() });
      },
    });
  });
}

const noFindings: readonly Finding[] = [];
const someFindings: readonly Finding[] = [{ field: 'latency_ms', direction: 'HIGH', score: 0.99, detector: 'ewma-zscore', shadow: false }];
const detectionAt = (i: number): Detection<InferenceEvent> => ({ event: eventAt(i), findings: i % 100 === 0 ? someFindings : noFindings });

const printRss = (i: number): void => say(`    … ${i.toLocaleString('en-US')} records, RSS ${rssMb()} MB`);
const rssEvery = records >= 5_000_000 ? 1_000_000 : Math.max(1, Math.floor(records / 4));

const variants: Record<string, () => Promise<Result>> = {
  source_only: () => drain(source(records, eventAt), records),
  adaptiveSample: () => drain(source(records, eventAt).pipe(sample()), records),
  banditBudget: () =>
    drain(
      source(records, eventAt).pipe(
        banditBudget<InferenceEvent>({
          arms: [
            { name: 'uniform', strategy: { kind: 'uniform-reservoir' } },
            { name: 'adaptive', strategy: { kind: 'adaptive', scoreOf: (e) => e.latency_ms / 100, shardOf: (e) => e.segment } },
          ],
          budget: { fraction: 0.05 },
          epochMs: 10_000,
          feedback: NEVER,
          random: SeededRandom.fromSeed(42),
        }),
      ),
      records,
    ),
  enrich: () => drain(source(records, eventAt).pipe(enrichOp<InferenceEvent>((e) => e.model_id)), records),
  keyedPartition: () => drain(source(records, eventAt).pipe(partition<InferenceEvent, InferenceEvent>((e) => e)), records),
  parallelDetect: () => drain(source(records, eventAt).pipe(detect()), records),
  windowedDedup: () => drain(source(records, detectionAt).pipe(dedup()), records),
  chain: () =>
    drain(
      source(records, eventAt, printRss, rssEvery).pipe(
        sample(),
        enrichOp<Sampled<InferenceEvent>>((s) => s.record.model_id),
        partition((e) => withValue(e, e.value.record.record)),
        detect(),
        dedup(),
      ),
      records,
    ),
  for_loop: () => Promise.resolve(forLoop()),
  rxjs_map_chain: () => drain(mapChain(), records),
};

// ---- the baselines: the chain's arithmetic without operators ----
interface Ewma {
  mean: number;
  variance: number;
  count: number;
}
/** Per step of the chain, the arithmetic the operator does at its core, on one record. */
function baselineSteps() {
  const random = SeededRandom.fromSeed(42);
  const ewma = new Map<string, Ewma>();
  const clusters = new Map<string, number>();
  return {
    // The adaptive weight (clamped preliminary score) and one draw against the 5 % budget.
    sampled: (e: InferenceEvent): boolean => Math.min(10, Math.max(0.1, e.latency_ms / 100)) > 0 && random.nextFloat() < 0.05,
    lookup: (e: InferenceEvent) => registry.get(e.model_id),
    lane: (e: InferenceEvent): number => hashKey(e.model_id) & 3,
    score: (e: InferenceEvent): number => {
      const key = `${e.model_id}\u0000${e.segment}\u0000latency_ms`;
      let s = ewma.get(key);
      if (s === undefined) ewma.set(key, (s = { mean: e.latency_ms, variance: 0, count: 0 }));
      const z = s.variance > 0 ? (e.latency_ms - s.mean) / Math.sqrt(s.variance) : 0;
      const d = e.latency_ms - s.mean;
      s.mean += 0.05 * d;
      s.variance = 0.95 * (s.variance + 0.05 * d * d);
      s.count++;
      return z;
    },
    dedup: (e: InferenceEvent, eventTimeMs: number, z: number): void => {
      if (Math.abs(z) < 3.5) return;
      const key = `${Math.floor(eventTimeMs / 60_000)}|${e.model_id}|${e.segment}|latency_ms|${z > 0 ? 'HIGH' : 'LOW'}`;
      clusters.set(key, (clusters.get(key) ?? 0) + 1);
    },
  };
}

function forLoop(): Result {
  settledCount = 0;
  const steps = baselineSteps();
  const t0 = performance.now();
  let outputs = 0;
  for (let i = 0; i < records; i++) {
    const envelope = envelopeAt(i, eventAt(i));
    const e = envelope.value;
    if (!steps.sampled(e)) {
      envelope.settlement.settle('dropped');
      continue;
    }
    if (steps.lookup(e) === undefined) outputs--;
    if (steps.lane(e) > 3) outputs--;
    steps.dedup(e, envelope.eventTimeMs, steps.score(e));
    outputs++;
    envelope.settlement.settle('delivered');
  }
  const seconds = (performance.now() - t0) / 1000;
  return { records_per_s: Math.round(records / seconds), seconds: Number(seconds.toFixed(3)), outputs, rss_mb: rssMb() };
}

function mapChain(): Observable<Envelope<InferenceEvent>> {
  const steps = baselineSteps();
  type Step = { envelope: Envelope<InferenceEvent>; keep: boolean; z: number };
  return source(records, eventAt).pipe(
    map((envelope): Step => ({ envelope, keep: steps.sampled(envelope.value), z: 0 })),
    map((s) => {
      if (s.keep) steps.lookup(s.envelope.value);
      return s;
    }),
    map((s) => {
      if (s.keep) steps.lane(s.envelope.value);
      return s;
    }),
    map((s) => {
      if (s.keep) s.z = steps.score(s.envelope.value);
      return s;
    }),
    map((s) => {
      if (s.keep) steps.dedup(s.envelope.value, s.envelope.eventTimeMs, s.z);
      else s.envelope.settlement.settle('dropped');
      return s.envelope;
    }),
    // The sink settles what it receives: pass on only the kept ones' envelopes.
    (stream) =>
      new Observable<Envelope<InferenceEvent>>((subscriber) =>
        stream.subscribe({
          next: (envelope) => {
            if (!envelope.settlement.settled) subscriber.next(envelope);
          },
          error: (err: unknown) => subscriber.error(err),
          complete: () => subscriber.complete(),
        }),
      ),
  );
}

// ---- main ----
const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

say(`bench:operators — ${records.toLocaleString('en-US')} synthetic InferenceEvents per variant, ${rounds} round(s), Node ${process.version}, RSS ${rssMb()} MB at start`);
const results = new Map<string, Result[]>();
for (let round = 0; round < rounds; round++) {
  for (const [name, run] of Object.entries(variants)) {
    if (only !== null && !only.has(name)) continue;
    if (name === 'chain') say(`  chain (RSS every ${rssEvery.toLocaleString('en-US')} records):`);
    const result = await run();
    const list = results.get(name) ?? [];
    list.push(result);
    results.set(name, list);
    if (name !== 'chain') say(`  ${name}: ${result.records_per_s.toLocaleString('en-US')} records/s`);
    else say(`  chain: ${result.records_per_s.toLocaleString('en-US')} input records/s, ${result.outputs} mentions, RSS ${result.rss_mb} MB`);
  }
}

const figure = (name: string): { records_per_s: number; seconds: number; outputs: number; rss_mb: number } | undefined => {
  const list = results.get(name);
  if (list === undefined) return undefined;
  return {
    records_per_s: Math.round(median(list.map((r) => r.records_per_s))),
    seconds: median(list.map((r) => r.seconds)),
    outputs: list[0]!.outputs,
    rss_mb: Math.max(...list.map((r) => r.rss_mb)),
  };
};
const operatorNames = ['adaptiveSample', 'banditBudget', 'enrich', 'keyedPartition', 'parallelDetect', 'windowedDedup'];
const report = {
  records,
  rounds,
  node: process.version,
  source_only_per_s: figure('source_only')?.records_per_s,
  for_loop_per_s: figure('for_loop')?.records_per_s,
  rxjs_map_chain_per_s: figure('rxjs_map_chain')?.records_per_s,
  operators: Object.fromEntries(operatorNames.flatMap((name) => (figure(name) ? [[name, figure(name)]] : []))),
  chain: figure('chain'),
  targets: {
    adaptive_sample_per_s: 2_000_000,
    chain_per_s: 500_000,
  },
  peak_rss_mb: Math.max(...[...results.values()].flat().map((r) => r.rss_mb)),
};

const rows: [string, number | undefined, string][] = [
  ['source only (envelopes)', report.source_only_per_s, ''],
  ...operatorNames.map((name): [string, number | undefined, string] => [name, report.operators[name]?.records_per_s, name === 'adaptiveSample' ? '≥ 2,000,000' : '']),
  ['chain sample→enrich→partition→detect→dedup', report.chain?.records_per_s, '≥ 500,000'],
  ['for-loop, same arithmetic', report.for_loop_per_s, ''],
  ['RxJS chain of 5 maps, same arithmetic', report.rxjs_map_chain_per_s, ''],
];
say('');
say(`${'variant'.padEnd(46)} ${'records/s'.padStart(12)}  target`);
for (const [name, rate, target] of rows) {
  if (rate === undefined) continue;
  const met = target === '' ? '' : rate >= Number(target.replace(/[^0-9]/g, '')) ? ' (met)' : ' (NOT met)';
  say(`${name.padEnd(46)} ${rate.toLocaleString('en-US').padStart(12)}  ${target}${met}`);
}
say(`peak RSS ${report.peak_rss_mb} MB`);
mkdirSync(path.join(root, 'reports'), { recursive: true });
writeFileSync(path.join(root, 'reports/bench-operators.json'), `${JSON.stringify(report, null, 2)}\n`);
say('written reports/bench-operators.json');
