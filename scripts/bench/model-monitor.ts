/**
 * `npm run bench:model-monitor` — the reference topology at a 1 % and a 10 % budget
 * (MODEL_MONITOR_SAMPLE_FRACTION) beside the passthrough, in the same run, on the same local broker.
 * Each round runs every variant twice, each pass in its own process (scripts/bench/e2e-worker.ts):
 *
 * 1. **Throughput**: a backlog of `--events` InferenceEvents (the same topic for every variant, read by
 *    a new group): records/s from the first record to the last one settled, CPU seconds of the process
 *    over that span per 1M records, and the process's peak RSS. model-monitor's windows hold their
 *    records until they close, and the last ones close only in the drain after the input went idle
 *    (1.5 s): its span includes that wait and the drain, which weighs on a small `--events`.
 * 2. **Time to mention (live)**: a topic with a history (`--live-history` events over the 5 minutes of
 *    event time before now, 16 models: the sketch and the detectors learn their baselines from it);
 *    once the worker has read it, this process feeds the topic at `--rate` events/s for
 *    `--live-seconds`, with event time = the wall clock, and keeps feeding for
 *    the mention window + the allowed lateness + 3 s so the measured events' windows close while the
 *    feed still runs. For every measured event that is evidence of a mention: the mention record's
 *    Kafka timestamp − the event record's (both CreateTime, set when produced on this host). The
 *    passthrough's figure is the same for its output record. Also: mention produced − its window's end
 *    (the wait the window itself does not explain). The mention window is `--mention-window-ms`
 *    (MODEL_MONITOR_DEDUP_WINDOW_MS for the live pass only; the default, 60 s, would make every figure
 *    a minute and the pass several): time to mention includes waiting for the window to close by
 *    design, so read it beside the window.
 *
 * Variants interleave within a round; medians over rounds are reported, ratios are taken within a
 * round. Enrichment is off (no MODEL_REGISTRY_URL). Figures go to stdout and
 * reports/bench-model-monitor.json.
 *
 *   npm run bench:model-monitor -- [--events 200000] [--rounds 3] [--live-seconds 10] [--rate 4000] [--mention-window-ms 5000] [--live-history 60000]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { startLocalBroker } from '../../runtime/local-broker/local-broker.js';
import { ensureTopics } from '../../runtime/kafka/admin.js';
import { writeTopic } from '../../runtime/kafka/topic-writer.js';
import { readAll } from '../../runtime/kafka/topic-reader.js';
import type { Message } from '../../runtime/kafka/client.js';
import { createTopicSerde } from '../../runtime/serde/index.js';
import { SETTINGS } from '../../runtime/config.js';
import { InferenceEventContract, MentionContract, type InferenceEvent, type Mention } from '../../schemas/index.js';
import { generateInferenceEvents } from '../../lab/generator/simple-stream.js';
import { median, NODE_FLAGS, percentile, perSecond, startWorker, wholeFlag, worker, writeReport, type WorkerResult } from './support.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '3' },
    'live-seconds': { type: 'string', default: '10' },
    rate: { type: 'string', default: '4000' },
    'mention-window-ms': { type: 'string', default: '5000' },
    'live-history': { type: 'string', default: '60000' },
  },
});
const events = wholeFlag('events', values.events, 1000);
const rounds = wholeFlag('rounds', values.rounds, 1);
const liveSeconds = wholeFlag('live-seconds', values['live-seconds'], 1);
const rate = wholeFlag('rate', values.rate, 10);
const mentionWindowMs = wholeFlag('mention-window-ms', values['mention-window-ms'], 1000);
const historyEvents = wholeFlag('live-history', values['live-history'], 0);
/** Event time the live pass's history spans, ending when it is written. */
const HISTORY_EVENT_TIME_MS = 300_000;
const allowedLatenessMs = SETTINGS.allowedLatenessMs.default;
const measuredLive = liveSeconds * rate;
const tailLive = Math.ceil(((mentionWindowMs + allowedLatenessMs + 3_000) / 1000) * rate);

const say = (message: string): void => console.log(message);

interface Variant {
  readonly name: string;
  readonly mode: 'passthrough' | 'model-monitor';
  readonly env: Readonly<Record<string, string>>;
}
/**
 * model-monitor's windows hold their records until they close: a 60 s window over the backlog's 1000
 * events/s of event time holds ~65k, past the runner's default --max-unsettled (20k), which would
 * block consumption until the watchdog stops the run. The bench raises it for model-monitor (the
 * memory this costs is in its peak RSS).
 */
const MONITOR_MAX_UNSETTLED = '1000000';
const VARIANTS: readonly Variant[] = [
  { name: 'passthrough', mode: 'passthrough', env: {} },
  { name: 'model-monitor 1%', mode: 'model-monitor', env: { MODEL_MONITOR_SAMPLE_FRACTION: '0.01', SIGNALPATH_MAX_UNSETTLED: MONITOR_MAX_UNSETTLED, SIGNALPATH_PARTITION_HIGH_WATER: MONITOR_MAX_UNSETTLED } },
  { name: 'model-monitor 10%', mode: 'model-monitor', env: { MODEL_MONITOR_SAMPLE_FRACTION: '0.1', SIGNALPATH_MAX_UNSETTLED: MONITOR_MAX_UNSETTLED, SIGNALPATH_PARTITION_HIGH_WATER: MONITOR_MAX_UNSETTLED } },
];

interface LiveResult {
  /** Event produced → mention (or output) produced, ms, one per measured evidence event. */
  readonly toMentionMs: number[];
  /** Mention produced − its window's end, ms, one per mention with measured evidence. */
  readonly afterWindowMs: number[];
  readonly mentions: number;
  /** Every mention of the pass, those of the history and shadow ones included. */
  readonly allMentions: number;
}

interface Pass {
  readonly throughput: WorkerResult;
  readonly live: LiveResult;
}

const headersOf = (message: Message): Record<string, Buffer> => Object.assign({}, ...(message.headers ?? [])) as Record<string, Buffer>;

/**
 * Models of the live streams: fewer than the backlog's 50, so their keys warm up in the history, and
 * enough that every one of the 4 partitions has records (an empty one would hold the watermark back
 * for the partition idle timeout, 30 s, and the records in the windows with it).
 */
const LIVE_MODELS = 16;

/**
 * The generator puts most incidents on rare segments, which the short history cannot warm up: the live
 * part also gets one on a busy key every 4 s, 2 s long (latency × 4 on one of the three busiest models,
 * segments consumer and enterprise), so both budgets have mentions to time.
 */
function withLiveIncident(event: InferenceEvent, startedAt: number): InferenceEvent {
  const sinceStart = event.ts - startedAt;
  const phase = Math.floor(sinceStart / 4_000);
  if (sinceStart % 4_000 >= 2_000 || event.model_id !== `model-00${phase % 3}` || (event.segment !== 'consumer' && event.segment !== 'enterprise')) return event;
  return { ...event, latency_ms: event.latency_ms * 4 };
}

/** Feeds the live part at `rate`/s with event time = the wall clock; returns the ids of the measured events. */
async function pacedLiveFeed(brokers: string, topic: string, seed: number): Promise<Set<string>> {
  const count = measuredLive + tailLive;
  const startedAt = Date.now();
  // An incident every ~5 s of the feed: something to mention at a 1 % budget too.
  const generated = generateInferenceEvents({ count, seed, models: LIVE_MODELS, startMs: startedAt, eventsPerSecond: rate, incidents: Math.max(2, Math.round(count / rate / 5)) }).events;
  const measured = new Set<string>();
  const perSlice = Math.max(1, Math.round(rate / 50));
  let written = 0;
  async function* paced(): AsyncGenerator<InferenceEvent> {
    for (const generatedEvent of generated) {
      const event = withLiveIncident(generatedEvent, startedAt);
      if (written < measuredLive) measured.add(event.event_id);
      yield event;
      written++;
      if (written % perSlice === 0) {
        const waitMs = startedAt + (written / rate) * 1000 - Date.now();
        if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  }
  await writeTopic(paced(), { brokers, topic, contract: InferenceEventContract, flushEvery: 10_000_000, progressEvery: 10_000_000 });
  return measured;
}

async function livePass(brokers: string, variant: Variant, round: number): Promise<LiveResult> {
  const topic = `bench.live-${variant.mode}-${variant.env.MODEL_MONITOR_SAMPLE_FRACTION ?? 'all'}-${round}`;
  const prefix = `${topic}.out`;
  await ensureTopics(brokers, [{ topic, partitions: 4 }]);
  // The history: what the topology learns its baselines from before the live part (event time up to
  // now, HISTORY_EVENT_TIME_MS of it), read at full speed; the live part starts once it is consumed.
  const history = generateInferenceEvents({ count: historyEvents, seed: 200 + round, models: LIVE_MODELS, startMs: Date.now() - HISTORY_EVENT_TIME_MS, eventsPerSecond: historyEvents / (HISTORY_EVENT_TIME_MS / 1000), incidents: 1 }).events;
  await writeTopic(history, { brokers, topic, contract: InferenceEventContract, progressEvery: 10_000_000 });
  const started = startWorker([variant.mode, brokers, topic, String(historyEvents + measuredLive + tailLive), variant.mode === 'passthrough' ? `${prefix}.output` : prefix], { ...variant.env, MODEL_MONITOR_DEDUP_WINDOW_MS: String(mentionWindowMs), BENCH_UNTIL_IDLE_MS: '5000' });
  let ended = false;
  started.result.then(() => (ended = true), () => (ended = true));
  await started.ready;
  while (started.consumed() < historyEvents) {
    if (ended) await started.result.then(() => Promise.reject(new Error(`${variant.name}: the live worker stopped after ${started.consumed()} of the ${historyEvents} history records`)));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const measured = await pacedLiveFeed(brokers, topic, 100 + round);
  await started.result;
  const inputSerde = createTopicSerde({ contract: InferenceEventContract, topic });
  const producedAt = new Map<string, number>();
  for (const message of await readAll(brokers, topic)) {
    const id = inputSerde.decode(message.value!, headersOf(message)).event_id;
    if (measured.has(id)) producedAt.set(id, message.timestamp!);
  }
  const toMentionMs: number[] = [];
  const afterWindowMs: number[] = [];
  let mentions = 0;
  let allMentions = 0;
  if (variant.mode === 'passthrough') {
    const outputSerde = createTopicSerde({ contract: InferenceEventContract, topic: `${prefix}.output` });
    for (const message of await readAll(brokers, `${prefix}.output`)) {
      const at = producedAt.get(outputSerde.decode(message.value!, headersOf(message)).event_id);
      if (at !== undefined) toMentionMs.push(message.timestamp! - at);
    }
  } else {
    const mentionSerde = createTopicSerde({ contract: MentionContract, topic: `${prefix}.mentions` });
    for (const message of await readAll(brokers, `${prefix}.mentions`)) {
      const mention: Mention = mentionSerde.decode(message.value!, headersOf(message));
      allMentions++;
      if (mention.shadow) continue;
      const evidence = mention.evidence_event_ids.map((id) => producedAt.get(id)).filter((at) => at !== undefined);
      if (evidence.length === 0) continue;
      mentions++;
      for (const at of evidence) toMentionMs.push(message.timestamp! - at);
      afterWindowMs.push(message.timestamp! - mention.window_end);
    }
  }
  return { toMentionMs, afterWindowMs, mentions, allMentions };
}

say(`bench:model-monitor — throughput on ${events.toLocaleString('en')} events; live: ${liveSeconds} s at ${rate}/s (+${(tailLive / rate).toFixed(0)} s to close windows), mention window ${mentionWindowMs} ms; ${rounds} rounds, medians; node ${NODE_FLAGS.join(' ')}`);
const broker = await startLocalBroker({ heap: '1g' });
try {
  const brokers = broker.brokers;
  const input = 'bench.mm.inference-events';
  await ensureTopics(brokers, [{ topic: input, partitions: 4 }]);
  const fedAt = performance.now();
  await writeTopic(generateInferenceEvents({ count: events, seed: 42 }).events, { brokers, topic: input, contract: InferenceEventContract, onProgress: (n) => process.stdout.write(`\r  feeding ${Math.round((100 * n) / events)}%`) });
  say(`\r  fed ${events.toLocaleString('en')} events in ${((performance.now() - fedAt) / 1000).toFixed(1)} s`);
  say('  warm-up pass (the broker is cold after start)…');
  await worker(['consume-only', brokers, input, String(events)]);

  const passes = new Map<string, Pass[]>(VARIANTS.map((v) => [v.name, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const variant of VARIANTS) {
      process.stdout.write(`  round ${round}/${rounds} · ${variant.name}: throughput…`);
      const throughput = await worker([variant.mode, brokers, input, String(events), `bench.mm-${variant.mode}-${variant.env.MODEL_MONITOR_SAMPLE_FRACTION ?? 'all'}-${round}${variant.mode === 'passthrough' ? '.output' : ''}`], variant.env);
      const ended = throughput as WorkerResult & { reason?: string; error?: string };
      if (ended.reason === 'fatal' || throughput.records < events * 0.9) {
        say(`\n  ${variant.name}: the pass settled ${throughput.records} of ${events} records (${ended.reason}${ended.error === undefined ? '' : `: ${ended.error}`}); its figures are not comparable`);
      }
      process.stdout.write(` ${perSecond(throughput.per_s)}/s, ${throughput.cpu_s!.toFixed(1)} CPU s, ${Math.round(throughput.peak_rss_mb)} MB · live…`);
      const live = await livePass(brokers, variant, round);
      say(` p50 ${percentile(live.toMentionMs, 50).toFixed(0)} ms, p99 ${percentile(live.toMentionMs, 99).toFixed(0)} ms over ${live.toMentionMs.length} events${variant.mode === 'passthrough' ? '' : ` in ${live.mentions} mentions (${live.allMentions} in the pass, history included)`}`);
      passes.get(variant.name)!.push({ throughput, live });
    }
  }

  const passthroughRate = passes.get('passthrough')!.map((p) => p.throughput.per_s);
  const rows = VARIANTS.map((variant) => {
    const ps = passes.get(variant.name)!;
    const finite = (xs: number[]): number | null => (xs.every(Number.isFinite) ? Math.round(median(xs)) : null);
    return {
      variant: variant.name,
      sample_fraction: variant.env.MODEL_MONITOR_SAMPLE_FRACTION === undefined ? null : Number(variant.env.MODEL_MONITOR_SAMPLE_FRACTION),
      records_per_s: Math.round(median(ps.map((p) => p.throughput.per_s))),
      ratio_to_passthrough: Number(median(ps.map((p, i) => p.throughput.per_s / passthroughRate[i]!)).toFixed(3)),
      cpu_s_per_1m_records: Number(median(ps.map((p) => (p.throughput.cpu_s! / p.throughput.records) * 1e6)).toFixed(1)),
      records_per_cpu_s: Math.round(median(ps.map((p) => p.throughput.records / p.throughput.cpu_s!))),
      peak_rss_mb: Math.round(Math.max(...ps.map((p) => p.throughput.peak_rss_mb))),
      time_to_mention_p50_ms: finite(ps.map((p) => percentile(p.live.toMentionMs, 50))),
      time_to_mention_p99_ms: finite(ps.map((p) => percentile(p.live.toMentionMs, 99))),
      after_window_end_p50_ms: variant.mode === 'passthrough' ? null : finite(ps.map((p) => percentile(p.live.afterWindowMs, 50))),
      after_window_end_p99_ms: variant.mode === 'passthrough' ? null : finite(ps.map((p) => percentile(p.live.afterWindowMs, 99))),
      live_events_measured: median(ps.map((p) => p.live.toMentionMs.length)),
      live_mentions: variant.mode === 'passthrough' ? null : median(ps.map((p) => p.live.mentions)),
      rounds: ps.map((p) => ({ per_s: Math.round(p.throughput.per_s), cpu_s: Number(p.throughput.cpu_s!.toFixed(2)), records: p.throughput.records, peak_rss_mb: Math.round(p.throughput.peak_rss_mb), live_p50_ms: percentile(p.live.toMentionMs, 50), live_p99_ms: percentile(p.live.toMentionMs, 99), live_mentions: p.live.mentions })),
    };
  });

  say('');
  say('| variant | records/s | vs passthrough | CPU s per 1M | peak RSS MB | time to mention p50 / p99 (ms) | after window end p50 / p99 (ms) | mentions (live) |');
  say('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const pair = (a: number | null, b: number | null): string => (a === null ? '–' : `${a.toLocaleString('en')} / ${b!.toLocaleString('en')}`);
    say(`| ${r.variant} | ${r.records_per_s.toLocaleString('en')} | ${r.ratio_to_passthrough.toFixed(2)}× | ${r.cpu_s_per_1m_records} | ${r.peak_rss_mb} | ${pair(r.time_to_mention_p50_ms, r.time_to_mention_p99_ms)} | ${pair(r.after_window_end_p50_ms, r.after_window_end_p99_ms)} | ${r.live_mentions ?? '–'} |`);
  }
  say('');
  say(`passthrough's "time to mention" is event produced → output produced. Mention window ${mentionWindowMs} ms, allowed lateness ${allowedLatenessMs} ms (an event waits for its window to close).`);
  const onePercent = rows[1]!;
  say(`target: model-monitor at 1% ≥ 0.80× the passthrough → ${onePercent.ratio_to_passthrough >= 0.8 ? 'met' : 'NOT met'} (${onePercent.ratio_to_passthrough}×); peak RSS ≤ 400 MB → ${onePercent.peak_rss_mb <= 400 ? 'met' : 'NOT met'} (${onePercent.peak_rss_mb} MB)`);
  writeReport('bench-model-monitor.json', {
    events,
    rounds,
    live: { seconds: liveSeconds, rate_per_s: rate, mention_window_ms: mentionWindowMs, allowed_lateness_ms: allowedLatenessMs },
    variants: rows,
    enrichment: 'off (no MODEL_REGISTRY_URL)',
    measured_at: new Date().toISOString(),
    machine: `${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, Node ${process.version}`,
    node_flags: NODE_FLAGS.join(' '),
  });
} finally {
  await broker.stop();
}
