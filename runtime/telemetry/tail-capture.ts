/**
 * Tail-hotspot capture, in process. OpenTelemetry JS has only head samplers and a span per record
 * per step costs more than the step, so every record gets only stage timestamps (a
 * {@link StageClock} slot) and, when it settles, its end-to-end latency goes into a running
 * distribution (`perf_hooks.createHistogram`, microseconds). A record is captured when
 *
 * - its end-to-end latency is above the running percentile (default p99 of the last 10–20 s,
 *   recomputed every second once the window holds `minSamples`) and the interval's budget of slow
 *   captures is not spent (twice the expected tail of the previous interval, at least 20: a latency
 *   spike makes every record "slow" against the previous threshold, and tracing all of them would
 *   make the spike worse), or
 * - it was dead-lettered, or
 * - it falls in the head-sampled baseline (every `1 / baselineRate`-th record, default 0.5%).
 *
 * Captured records are queued (bounded) and turned into spans after the fact, off the settle path:
 * a record span from consume to settle (child of the input's trace context, linked to it) with a
 * child span per step it passed and one for the sink, each with its real start and end time. The
 * record span names its hotspot: the stage where it spent the most time.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { isSpanContextValid, ROOT_CONTEXT, SpanKind, trace, TraceFlags, type Link, type SpanContext, type Tracer } from '@opentelemetry/api';
import type { SettlementOutcome } from '../../core/settlement.js';
import { BucketHistogram } from './bucket-histogram.js';
import type { CapturedSummary } from './hotspots.js';
import type { RecordNotes } from './stage-clock.js';
import { parseTraceparent } from './trace-context.js';

export type CaptureReason = 'slow' | 'failed' | 'baseline';

export interface TailCaptureOptions {
  readonly topology: string;
  readonly stepNames: readonly string[];
  /** Percentile of end-to-end latency above which a record is captured, in (0, 100). Default 99. */
  readonly percentile?: number;
  /** Fraction of records captured regardless of latency, in [0, 1]. Default 0.005. */
  readonly baselineRate?: number;
  /** Samples the window must hold before the threshold is used. Default 1000. */
  readonly minSamples?: number;
  /** Captured records waiting to become spans; beyond this they are counted and skipped. Default 2048. */
  readonly maxPending?: number;
  readonly tracer?: Tracer;
  /** Threshold refreshes per window rotation (the window spans this many to twice as many). Default 10. */
  readonly refreshesPerWindow?: number;
  /** Called with each captured record's summary once its spans are built (hotspot log, status page). */
  readonly onCaptured?: (summary: CapturedSummary) => void;
}

/** What a captured record keeps: copied out of its stage-clock slot when it settles. */
export interface CapturedRecord {
  readonly reason: CaptureReason;
  readonly outcome: SettlementOutcome;
  readonly key: Buffer | null;
  readonly partition: number;
  readonly offset: number;
  readonly traceparent: Buffer | null;
  /** performance.now() stamps: [consumed, left step 0, …] up to the stage reached. */
  readonly stamps: readonly number[];
  readonly settledAtMs: number;
  /** What steps noted about the record (lane, cache, retries); become `signalpath.<name>` attributes. */
  readonly notes?: RecordNotes;
}

export class TailCapture {
  readonly percentile: number;
  readonly baselineEvery: number;
  readonly minSamples: number;
  readonly e2e = new BucketHistogram();
  readonly captured: Record<CaptureReason, number> = { slow: 0, failed: 0, baseline: 0 };
  skipped = 0;
  /** Slow records not captured because the interval's budget was spent. */
  overBudget = 0;
  /** Current threshold in ms; Infinity until the window holds `minSamples`. */
  thresholdMs = Infinity;
  #window: RecordableHistogram = createHistogram();
  #previousWindow: RecordableHistogram = createHistogram();
  #refreshes = 0;
  #previousCount = 0;
  #slowBudget = 20;
  #settledInInterval = 0;
  #pending: CapturedRecord[] = [];
  #flushScheduled = false;
  readonly #maxPending: number;
  readonly #tracer: Tracer;

  constructor(private readonly options: TailCaptureOptions) {
    const percentile = options.percentile ?? 99;
    if (!(percentile > 0 && percentile < 100)) throw new RangeError(`tail percentile ${percentile}: expected a number in (0, 100), e.g. 99`);
    const baselineRate = options.baselineRate ?? 0.005;
    if (!(baselineRate >= 0 && baselineRate <= 1)) throw new RangeError(`trace baseline rate ${baselineRate}: expected a fraction in [0, 1], e.g. 0.005`);
    this.percentile = percentile;
    this.baselineEvery = baselineRate === 0 ? 0 : Math.max(1, Math.round(1 / baselineRate));
    this.minSamples = options.minSamples ?? 1000;
    this.#maxPending = options.maxPending ?? 2048;
    this.#tracer = options.tracer ?? trace.getTracer('signalpath');
  }

  /** Records a settled record's end-to-end latency; returns why to capture it, or null. */
  decide(seq: number, e2eMs: number, outcome: SettlementOutcome): CaptureReason | null {
    this.e2e.observe(e2eMs);
    this.#settledInInterval++;
    const micros = Math.round(e2eMs * 1000);
    this.#window.record(micros > 0 ? micros : 1);
    if (outcome === 'dead-lettered') return 'failed';
    if (e2eMs > this.thresholdMs) {
      if (this.#slowBudget > 0) {
        this.#slowBudget--;
        return 'slow';
      }
      this.overBudget++;
    }
    if (this.baselineEvery > 0 && seq % this.baselineEvery === 0) return 'baseline';
    return null;
  }

  /**
   * Recomputes the threshold from the current and the previous window (the runner calls this every
   * second; the window rotates every `refreshesPerWindow` calls) and renews the slow-capture budget.
   * Too few samples leave the threshold as it is.
   */
  refreshThreshold(): void {
    const expectedTail = (1 - this.percentile / 100) * this.#settledInInterval;
    this.#slowBudget = Math.max(20, Math.ceil(2 * expectedTail));
    this.#settledInInterval = 0;
    const merged = createHistogram();
    merged.add(this.#window);
    merged.add(this.#previousWindow);
    if (merged.count >= this.minSamples) {
      this.thresholdMs = merged.percentile(this.percentile) / 1000;
      this.#previousCount = merged.count;
    }
    if (++this.#refreshes % (this.options.refreshesPerWindow ?? 10) === 0) {
      const previous = this.#previousWindow;
      previous.reset();
      this.#previousWindow = this.#window;
      this.#window = previous;
    }
  }

  /** Queues a captured record; spans are built on a later turn of the event loop. */
  capture(record: CapturedRecord): void {
    if (this.#pending.length >= this.#maxPending) {
      this.skipped++;
      return;
    }
    this.captured[record.reason]++;
    this.#pending.push(record);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Builds and ends the spans of every queued record. */
  flush(): void {
    this.#flushScheduled = false;
    const pending = this.#pending;
    this.#pending = [];
    for (const record of pending) this.#emitSpans(record);
  }

  #emitSpans(record: CapturedRecord): void {
    const { stepNames, topology } = this.options;
    const origin = performance.timeOrigin;
    const input = parseTraceparent(record.traceparent);
    const inputContext: SpanContext | null = input ? { traceId: input.traceId, spanId: input.spanId, traceFlags: input.flags & TraceFlags.SAMPLED, isRemote: true } : null;
    const parent = inputContext ? trace.setSpanContext(ROOT_CONTEXT, inputContext) : ROOT_CONTEXT;
    const links: Link[] = inputContext ? [{ context: inputContext, attributes: { 'signalpath.link': 'input-record' } }] : [];
    const stamps = record.stamps;
    const routed = stamps.length === stepNames.length + 1;
    // Hotspot: the stage with the longest time (a step, the sink, or the step that held it at the end).
    let hotspot = 'sink';
    let longest = -1;
    for (let i = 0; i + 1 < stamps.length; i++) {
      const spent = stamps[i + 1]! - stamps[i]!;
      if (spent > longest) {
        longest = spent;
        hotspot = stepNames[i]!;
      }
    }
    const tailSpent = record.settledAtMs - stamps[stamps.length - 1]!;
    if (tailSpent > longest) hotspot = routed ? 'sink' : (stepNames[stamps.length - 1] ?? 'sink');
    const key = record.key === null ? '' : record.key.toString('utf8');
    const noted: Record<string, string | number | boolean> = {};
    if (record.notes !== undefined) for (const name of Object.keys(record.notes)) noted[`signalpath.${name}`] = record.notes[name]!;
    const common = { 'signalpath.topology': topology, 'signalpath.key': key, 'messaging.destination.partition.id': String(record.partition), 'messaging.kafka.offset': record.offset };
    const span = this.#tracer.startSpan(
      `${topology} record`,
      {
        kind: SpanKind.CONSUMER,
        startTime: origin + stamps[0]!,
        links,
        attributes: {
          ...common,
          'signalpath.capture': record.reason,
          'signalpath.outcome': record.outcome,
          'signalpath.hotspot': hotspot,
          'signalpath.e2e_ms': record.settledAtMs - stamps[0]!,
          'signalpath.threshold_ms': Number.isFinite(this.thresholdMs) ? this.thresholdMs : -1,
          ...noted,
        },
      },
      parent,
    );
    const within = trace.setSpan(parent, span);
    for (let i = 0; i + 1 < stamps.length; i++) {
      // A step the record passed within one turn of JavaScript reads as 0 ms: no span for it.
      if (stamps[i + 1]! <= stamps[i]!) continue;
      const step = stepNames[i]!;
      this.#tracer.startSpan(`step ${step}`, { startTime: origin + stamps[i]!, attributes: { ...common, 'signalpath.step': step } }, within).end(origin + stamps[i + 1]!);
    }
    const lastStage = routed ? 'sink' : (stepNames[stamps.length - 1] ?? 'sink');
    this.#tracer
      .startSpan(routed ? 'sink' : `step ${lastStage}`, { startTime: origin + stamps[stamps.length - 1]!, attributes: { ...common, 'signalpath.step': lastStage } }, within)
      .end(origin + record.settledAtMs);
    span.end(origin + record.settledAtMs);
    if (this.options.onCaptured !== undefined) {
      const stagesMs: Record<string, number> = {};
      for (let i = 0; i + 1 < stamps.length; i++) stagesMs[stepNames[i]!] = stamps[i + 1]! - stamps[i]!;
      stagesMs[lastStage] = (stagesMs[lastStage] ?? 0) + tailSpent;
      this.options.onCaptured({
        atMs: Math.round(origin + record.settledAtMs),
        topology,
        reason: record.reason,
        outcome: record.outcome,
        key,
        partition: record.partition,
        offset: record.offset,
        traceId: isSpanContextValid(span.spanContext()) ? span.spanContext().traceId : null,
        e2eMs: record.settledAtMs - stamps[0]!,
        thresholdMs: Number.isFinite(this.thresholdMs) ? this.thresholdMs : null,
        hotspot,
        stagesMs,
        notes: record.notes ?? {},
      });
    }
  }

  /** Window samples behind the current threshold (for tests and the status line). */
  get thresholdSamples(): number {
    return this.#previousCount;
  }
}
