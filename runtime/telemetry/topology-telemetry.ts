/**
 * Everything the runner measures for one running topology, in one object: the Prometheus registry,
 * the stage clock, the per-step counters, tail capture, and the source's hooks (a record consumed,
 * a record settled). The runner creates it only when telemetry is on; with it off, none of these
 * run on the hot path.
 */
import { Registry } from 'prom-client';
import type { Tracer } from '@opentelemetry/api';
import type { SettlementOutcome } from '../settlement.js';
import { histogramSeries } from './bucket-histogram.js';
import { registerCollected } from './prom-collector.js';
import { StageClock, type TracedOrigin } from './stage-clock.js';
import { StepMetrics } from './step-metrics.js';
import { TailCapture, type CaptureReason } from './tail-capture.js';

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
}

export class TopologyTelemetry {
  readonly registry = new Registry();
  readonly clock: StageClock;
  readonly steps: StepMetrics;
  readonly tail: TailCapture;
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
    });
    this.#timer = setInterval(() => this.tail.refreshThreshold(), options.thresholdRefreshMs ?? 1000);
    this.#timer.unref();
    this.steps.register(this.registry);
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
    this.tail.capture({ reason, outcome, key: origin.key, partition: origin.partition, offset: origin.offset, traceparent: origin.traceparent, stamps, settledAtMs: now });
  }

  /** Adds a gauge read at scrape time (source state the runner owns). */
  addGauge(name: string, help: string, collect: () => { labels: Record<string, string>; value: number }[]): void {
    registerCollected(this.registry, { name, help, type: 'gauge', collect });
  }

  close(): void {
    clearInterval(this.#timer);
    this.tail.flush();
  }
}
