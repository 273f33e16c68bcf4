/**
 * Everything the runner measures for one running topology, in one object: the Prometheus registry,
 * the stage clock, the per-step counters, tail capture, and the source's hooks (a record consumed,
 * a record settled). The runner creates it only when telemetry is on; with it off, none of these
 * run on the hot path.
 */
import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import { ConfigError } from '../config.js';
import { Registry } from 'prom-client';
import type { Tracer } from '@opentelemetry/api';
import type { SettlementOutcome } from '../../core/settlement.js';
import { histogramSeries } from './bucket-histogram.js';
import { registerCollected } from './prom-collector.js';
import { StageClock, type RecordNotes, type TracedOrigin } from './stage-clock.js';
import { StepMetrics } from './step-metrics.js';
import { TailCapture, type CaptureReason } from './tail-capture.js';
import { HotspotSummary, type CapturedSummary, type HotspotReport } from './hotspots.js';
import { KpiTelemetry, type KpiSnapshot, type KpiSources } from './kpis.js';
import { bucketPercentile } from './tail-recovery.js';
import { registerStateMetrics, type StateOutcomes } from './state-metrics.js';
import type { TopologyGauge } from '../topology.js';

/** What `/status.json` serves: the run at one moment (the runner adds its source's state). */
export interface TelemetryStatus {
  readonly topology: string;
  readonly atMs: number;
  readonly steps: readonly { readonly step: string; readonly received: number; readonly emitted: number; readonly dropped: number; readonly failed: number; readonly p50Ms: number | null; readonly p99Ms: number | null }[];
  readonly endToEnd: { readonly settled: number; readonly p50Ms: number | null; readonly p99Ms: number | null; readonly thresholdMs: number | null };
  readonly settled: Readonly<Record<string, number>>;
  readonly captured: Readonly<Record<string, number>>;
  readonly kpis: KpiSnapshot;
  readonly hotspots: HotspotReport;
}

export interface TopologyTelemetryOptions {
  readonly topology: string;
  readonly stepNames: readonly string[];
  /** Bound on unsettled records: sizes the stage clock. */
  readonly maxUnsettled: number;
  readonly tailPercentile?: number;
  readonly baselineRate?: number;
  readonly tracer?: Tracer;
  /** Every how many ms the tail threshold is recomputed. Default 1000. */
  readonly thresholdRefreshMs?: number;
  /** The topology's KPI sources (see kpis.ts). Default: none (events and tail recovery only). */
  readonly kpis?: KpiSources;
  /** Append each captured record's summary to this file as a JSON line (`signalpath hotspots`). */
  readonly hotspotsFile?: string;
}

export class TopologyTelemetry {
  readonly registry = new Registry();
  readonly clock: StageClock;
  readonly steps: StepMetrics;
  readonly tail: TailCapture;
  readonly kpis: KpiTelemetry;
  /** What the captured records of this run share (the status page shows it live). */
  readonly hotspots = new HotspotSummary();
  readonly #hotspotsFile: WriteStream | null;
  readonly #timer: NodeJS.Timeout;

  constructor(options: TopologyTelemetryOptions) {
    this.clock = new StageClock(options.stepNames.length, options.maxUnsettled * 2);
    this.steps = new StepMetrics(options.topology, options.stepNames, this.clock);
    this.tail = new TailCapture({
      topology: options.topology,
      stepNames: options.stepNames,
      percentile: options.tailPercentile,
      baselineRate: options.baselineRate,
      tracer: options.tracer,
      onCaptured: (summary) => this.#captured(summary),
    });
    this.#hotspotsFile = options.hotspotsFile === undefined ? null : openHotspotsFile(options.hotspotsFile);
    this.kpis = new KpiTelemetry({
      topology: options.topology,
      sources: options.kpis ?? {},
      events: () => this.steps.received[0]! + (this.steps.failed.get('decode') ?? 0),
      e2e: this.tail.e2e,
      runningP99Ms: () => this.tail.thresholdMs,
    });
    this.#timer = setInterval(() => {
      // Tail recovery compares the last second with the threshold from before it: tick first.
      this.kpis.tick(Date.now());
      this.tail.refreshThreshold();
    }, options.thresholdRefreshMs ?? 1000);
    this.#timer.unref();
    this.steps.register(this.registry);
    this.kpis.register(this.registry);
    const topology = options.topology;
    registerCollected(this.registry, {
      name: 'signalpath_record_latency_seconds',
      help: 'End-to-end latency of input records: consumed to settled (output durable, dropped or dead-lettered).',
      type: 'histogram',
      collect: () => histogramSeries('signalpath_record_latency_seconds', { topology }, this.tail.e2e),
    });
    registerCollected(this.registry, {
      name: 'signalpath_tail_threshold_seconds',
      help: `End-to-end latency above which records are captured as traces (running p${this.tail.percentile}); -1 while warming up.`,
      type: 'gauge',
      collect: () => [{ labels: { topology }, value: Number.isFinite(this.tail.thresholdMs) ? this.tail.thresholdMs / 1000 : -1 }],
    });
    registerCollected(this.registry, {
      name: 'signalpath_tail_captured_total',
      help: 'Records turned into spans, by reason (slow, failed, baseline); "skipped": the span queue was full; "over-budget": slow records past the interval budget.',
      type: 'counter',
      collect: () => [
        ...(Object.keys(this.tail.captured) as CaptureReason[]).map((reason) => ({ labels: { topology, reason }, value: this.tail.captured[reason] })),
        { labels: { topology, reason: 'skipped' }, value: this.tail.skipped },
        { labels: { topology, reason: 'over-budget' }, value: this.tail.overBudget },
      ],
    });
  }

  /** Source hook: a record was consumed (at its batch's `performance.now()`); returns its sequence. */
  consumed(consumedAtMs: number): number {
    return this.clock.claim(consumedAtMs);
  }

  /** Source hook: an input record settled. */
  settled(origin: TracedOrigin, outcome: SettlementOutcome): void {
    const seq = origin.telemetrySeq;
    const slot = this.clock.slotOf(seq);
    this.steps.countSettled(slot, outcome);
    if (slot < 0) return;
    const clock = this.clock;
    const now = clock.turn.now();
    const base = slot * clock.width;
    const reason = this.tail.decide(seq, now - clock.times[base]!, outcome);
    if (reason === null) return;
    const reached = clock.stage[slot]!;
    const stamps: number[] = [];
    for (let i = 0; i <= reached; i++) stamps.push(clock.times[base + i]!);
    const notes = clock.notes[slot];
    this.tail.capture({ reason, outcome, key: origin.key, partition: origin.partition, offset: origin.offset, traceparent: origin.traceparent, stamps, settledAtMs: now, ...(notes ? { notes } : {}) });
  }

  /**
   * A step's notes on a record (lane, cache hit or miss, retries): kept in its stage-clock slot and
   * put on its spans if it is captured. A record without a slot (telemetry stamp missing or reused)
   * is ignored.
   */
  annotate(origin: TracedOrigin, notes: RecordNotes): void {
    const slot = this.clock.slotOf(origin.telemetrySeq);
    if (slot < 0) return;
    const existing = this.clock.notes[slot];
    this.clock.notes[slot] = existing === undefined ? { ...notes } : Object.assign(existing, notes);
  }

  /** The source's gauges: consumer lag per partition (null = unknown yet) and unsettled records. */
  addSourceGauges(lagByPartition: () => Readonly<Record<string, number | null>>, unsettled: () => number): void {
    const topology = this.steps.topology;
    this.addGauge('signalpath_consumer_lag', "Records behind the partition's high watermark (cached by the client).", () =>
      Object.entries(lagByPartition()).flatMap(([partition, lag]) => (lag === null ? [] : [{ labels: { topology, partition }, value: lag }])),
    );
    this.addGauge('signalpath_source_unsettled', 'Input records consumed and not yet settled.', () => [{ labels: { topology }, value: unsettled() }]);
  }

  /** Adds a gauge read at scrape time (source state the runner owns). */
  addGauge(name: string, help: string, collect: () => { labels: Record<string, string>; value: number }[]): void {
    registerCollected(this.registry, { name, help, type: 'gauge', collect });
  }

  /** Exports the gauges and counters a topology declares (`defineTopology({ gauges })`), with the `topology` label. */
  addTopologyGauges(gauges: readonly TopologyGauge[]): void {
    const topology = this.steps.topology;
    for (const gauge of gauges) {
      registerCollected(this.registry, {
        name: gauge.name,
        help: gauge.help,
        type: gauge.type ?? 'gauge',
        collect: () => gauge.read().map(({ labels, value }) => ({ labels: { topology, ...labels }, value })),
      });
    }
  }

  /** Exports the run's operator-state figures: restores and handovers per step (see state-metrics.ts). */
  addStateMetrics(states: StateOutcomes): void {
    registerStateMetrics(this.registry, this.steps.topology, states);
  }

  #captured(summary: CapturedSummary): void {
    this.hotspots.add(summary);
    const file = this.#hotspotsFile;
    if (file !== null && !file.errored) file.write(`${JSON.stringify(summary)}\n`);
  }

  /** The run now, for `/status.json`. */
  status(): TelemetryStatus {
    const steps = this.steps;
    const bounds = this.tail.e2e.boundsMs;
    const nowMs = Date.now();
    return {
      topology: steps.topology,
      atMs: nowMs,
      steps: steps.stepNames.map((step, i) => ({
        step,
        received: steps.received[i]!,
        emitted: steps.emitted[i]!,
        dropped: steps.dropped[i]!,
        failed: steps.failed.get(step) ?? 0,
        p50Ms: bucketPercentile(bounds, steps.latency[i]!.counts, 50),
        p99Ms: bucketPercentile(bounds, steps.latency[i]!.counts, 99),
      })),
      endToEnd: {
        settled: this.tail.e2e.count,
        p50Ms: bucketPercentile(bounds, this.tail.e2e.counts, 50),
        p99Ms: bucketPercentile(bounds, this.tail.e2e.counts, 99),
        thresholdMs: Number.isFinite(this.tail.thresholdMs) ? this.tail.thresholdMs : null,
      },
      settled: { ...steps.settled },
      captured: { ...this.tail.captured, skipped: this.tail.skipped, overBudget: this.tail.overBudget },
      kpis: this.kpis.snapshot(nowMs),
      hotspots: this.hotspots.report(5),
    };
  }

  /** Stops the timer, builds the last spans and closes the hotspots file. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.tail.flush();
    const file = this.#hotspotsFile;
    if (file !== null) await new Promise<void>((resolve) => file.end(resolve));
  }
}

/**
 * Opens the hotspots file for appending now, so that a path that cannot be written fails the start
 * with a message rather than the run later. A write error after that (disk full) stops the file, not
 * the run: the hotspots are a diagnostic.
 */
function openHotspotsFile(path: string): WriteStream {
  let fd: number;
  try {
    fd = openSync(path, 'a');
  } catch (error) {
    throw new ConfigError(`--hotspots-file / SIGNALPATH_HOTSPOTS_FILE ${path}: cannot open it for appending (${(error as Error).message}); expected a writable file path`);
  }
  const stream = createWriteStream('', { fd });
  stream.on('error', () => {});
  return stream;
}
