/**
 * The study's KPIs as metrics — mention rate per 10k events and per $1k of spend, recall at
 * precision tiers and feedback-loop latency (from labels), budget use per bandit arm, cache hit
 * ratio, per-lane load and its spread, tail recovery time — for any topology.
 *
 * The runtime stays generic: a topology declares its {@link KpiSources} (`defineTopology({ kpis })`:
 * which outputs are mentions, where its cache, lanes and bandit counters are read), the runner feeds
 * mentions and labels in, and every metric is read at scrape time from plain numbers. A source that is
 * absent exports nothing (no zero that reads like a measurement).
 */
import type { Registry } from 'prom-client';
import { histogramSeries, type BucketHistogram, type PromValue } from './bucket-histogram.js';
import { LabelFeedback, PRECISION_TIERS, type Verdict } from './label-feedback.js';
import { registerCollected } from './prom-collector.js';
import { bucketPercentile, TailRecovery } from './tail-recovery.js';

/** Spend so far, in US dollars (the lab's cost meter satisfies it). */
export interface SpendMeter {
  spendUsd(): number;
}

export interface LaneLoad {
  readonly lane: number;
  /** Records whose work finished on the lane, so far. */
  readonly records: number;
  /** Time spent in work, ms so far. */
  readonly busyMs: number;
  /** Records queued now. */
  readonly queued: number;
}

export interface ArmBudget {
  readonly arm: string;
  /** The arm's share of the latest epoch's budget, [0, 1]. */
  readonly share: number;
  /** Records the arm chose, so far. */
  readonly records: number;
}

/** What a topology tells the runtime about its KPIs; every field is optional. */
export interface KpiSources {
  /** Output roles whose records are mentions (mention rate; matched with labels). */
  readonly mentionOutputs?: readonly string[];
  /** A mention's id and score (needed to match labels; score orders the recall/precision curve). */
  readonly mentionOf?: (value: unknown) => { readonly id: string; readonly score: number };
  /** Topic of Label records (schemas/label) to follow; needs `mentionOf`. */
  readonly labelsTopic?: string;
  /**
   * Told of every label the runtime receives from `labelsTopic`, as it arrives (a topology that
   * acts on labels: model-monitor's recalibration). Called with telemetry on, like the KPIs.
   */
  readonly onLabel?: (mentionId: string, verdict: Verdict, receivedAtMs: number) => void;
  readonly spend?: SpendMeter;
  /** Enrichment cache counters so far. */
  readonly cache?: () => { readonly hits: number; readonly misses: number };
  readonly lanes?: () => readonly LaneLoad[];
  /** Bandit budget per arm. */
  readonly budget?: () => readonly ArmBudget[];
}

export interface KpiTelemetryOptions {
  readonly topology: string;
  readonly sources: KpiSources;
  /** Events ingested so far (records that entered the topology). */
  readonly events: () => number;
  /** The end-to-end latency histogram (cumulative) and the running p99, for tail recovery. */
  readonly e2e: BucketHistogram;
  readonly runningP99Ms: () => number;
  /** Seconds of lane history behind the load spread. Default 10. */
  readonly laneWindowTicks?: number;
}

/** The KPIs at one moment, as the status page reads them (`/status.json`). */
export interface KpiSnapshot {
  readonly events: number;
  readonly mentions: number;
  readonly mentionsPer10kEvents: number | null;
  readonly spendUsd: number | null;
  readonly mentionsPer1kUsd: number | null;
  readonly labels: Readonly<Record<string, number>> | null;
  readonly precision: number | null;
  readonly recallAtPrecision: readonly { readonly precision: number; readonly recall: number | null }[] | null;
  /** Feedback latency p50 / p90, seconds. */
  readonly feedbackLatencyP50Seconds: number | null;
  readonly feedbackLatencyP90Seconds: number | null;
  readonly cacheHitRatio: number | null;
  readonly lanes: readonly (LaneLoad & { readonly recentRecords: number })[] | null;
  readonly laneLoadCv: number | null;
  readonly budget: readonly ArmBudget[] | null;
  readonly tailRecovery: { readonly lastSeconds: number | null; readonly maxSeconds: number; readonly episodes: number; readonly activeSeconds: number };
}

export class KpiTelemetry {
  mentions = 0;
  readonly feedback: LabelFeedback | null;
  readonly recovery = new TailRecovery();
  readonly #sources: KpiSources;
  readonly #mentionOutputs: ReadonlySet<string>;
  #previousE2e: Float64Array;
  /** Lane `records` per tick, the latest `laneWindowTicks + 1`. */
  #laneHistory: number[][] = [];

  constructor(private readonly options: KpiTelemetryOptions) {
    this.#sources = options.sources;
    this.#mentionOutputs = new Set(options.sources.mentionOutputs ?? []);
    this.feedback = options.sources.mentionOf !== undefined ? new LabelFeedback() : null;
    this.#previousE2e = Float64Array.from(options.e2e.counts);
    if (options.sources.labelsTopic !== undefined && options.sources.mentionOf === undefined) {
      throw new TypeError(`topology ${options.topology}: kpis.labelsTopic needs kpis.mentionOf (a mention's id and score) to match labels`);
    }
  }

  /** True when records of `output` are mentions (the runner asks once per output). */
  isMentionOutput(output: string): boolean {
    return this.#mentionOutputs.has(output);
  }

  /** A mention was sent to its output. */
  mentionEmitted(value: unknown, atMs: number): void {
    this.mentions++;
    if (this.feedback === null) return;
    const mention = this.#sources.mentionOf!(value);
    this.feedback.mentionEmitted(mention.id, mention.score, atMs);
  }

  labelReceived(mentionId: string, verdict: Verdict, atMs: number): void {
    this.feedback?.labelReceived(mentionId, verdict, atMs);
    this.#sources.onLabel?.(mentionId, verdict, atMs);
  }

  /** Once a second, before the tail threshold is refreshed: tail recovery and lane history. */
  tick(nowMs: number): void {
    const counts = this.options.e2e.counts;
    const delta = counts.map((count, i) => count - this.#previousE2e[i]!);
    this.#previousE2e = Float64Array.from(counts);
    this.recovery.observe(nowMs, bucketPercentile(this.options.e2e.boundsMs, delta, 99), this.options.runningP99Ms());
    const lanes = this.#sources.lanes?.();
    if (lanes !== undefined) {
      this.#laneHistory.push(lanes.map((lane) => lane.records));
      if (this.#laneHistory.length > (this.options.laneWindowTicks ?? 10) + 1) this.#laneHistory.shift();
    }
  }

  /** Records per lane over the lane window. */
  #recentLaneRecords(lanes: readonly LaneLoad[]): number[] {
    const oldest = this.#laneHistory[0];
    return lanes.map((lane, i) => lane.records - (oldest?.[i] ?? 0));
  }

  #mentionsPer10kEvents(events: number): number | null {
    return events > 0 ? (this.mentions / events) * 10_000 : null;
  }

  #mentionsPer1kUsd(spendUsd: number | null): number | null {
    return spendUsd !== null && spendUsd > 0 ? (this.mentions / spendUsd) * 1000 : null;
  }

  #cacheHitRatio(): number | null {
    const cache = this.#sources.cache?.();
    return cache === undefined || cache.hits + cache.misses === 0 ? null : cache.hits / (cache.hits + cache.misses);
  }

  snapshot(nowMs: number): KpiSnapshot {
    const sources = this.#sources;
    const events = this.options.events();
    const spendUsd = sources.spend?.spendUsd() ?? null;
    const feedback = this.feedback;
    const lanes = sources.lanes?.();
    const recent = lanes === undefined ? undefined : this.#recentLaneRecords(lanes);
    const latencyP = (p: number): number | null => {
      if (feedback === null) return null;
      const value = bucketPercentile(feedback.latency.boundsMs, feedback.latency.counts, p);
      return value === null ? null : value / 1000;
    };
    return {
      events,
      mentions: this.mentions,
      mentionsPer10kEvents: this.#mentionsPer10kEvents(events),
      spendUsd,
      mentionsPer1kUsd: this.#mentionsPer1kUsd(spendUsd),
      labels: feedback === null ? null : { ...feedback.verdicts },
      precision: feedback?.precision() ?? null,
      recallAtPrecision: feedback?.recallAtPrecision() ?? null,
      feedbackLatencyP50Seconds: latencyP(50),
      feedbackLatencyP90Seconds: latencyP(90),
      cacheHitRatio: this.#cacheHitRatio(),
      lanes: lanes === undefined ? null : lanes.map((lane, i) => ({ ...lane, recentRecords: recent![i]! })),
      laneLoadCv: recent === undefined ? null : coefficientOfVariation(recent),
      budget: sources.budget?.() ?? null,
      tailRecovery: {
        lastSeconds: this.recovery.lastRecoveryMs === null ? null : this.recovery.lastRecoveryMs / 1000,
        maxSeconds: this.recovery.maxRecoveryMs / 1000,
        episodes: this.recovery.episodes,
        activeSeconds: this.recovery.activeForMs(nowMs) / 1000,
      },
    };
  }

  register(registry: Registry): void {
    const topology = this.options.topology;
    const sources = this.#sources;
    const one = (value: number | null): PromValue[] => (value === null ? [] : [{ labels: { topology }, value }]);
    const gauge = (name: string, help: string, collect: () => PromValue[]): void => registerCollected(registry, { name, help, type: 'gauge', collect });
    const counter = (name: string, help: string, collect: () => PromValue[]): void => registerCollected(registry, { name, help, type: 'counter', collect });

    counter('signalpath_kpi_events_total', 'Events ingested: input records that entered the topology (decode failures included).', () => one(this.options.events()));
    if (this.#mentionOutputs.size > 0) {
      counter('signalpath_kpi_mentions_total', 'Mentions sent to the mention outputs.', () => one(this.mentions));
      gauge('signalpath_kpi_mentions_per_10k_events', 'Mentions per 10 000 events ingested, over the run.', () => one(this.#mentionsPer10kEvents(this.options.events())));
    }
    if (sources.spend !== undefined) {
      counter('signalpath_kpi_spend_usd_total', 'Spend so far in US dollars (ingestion, enrichment and detector calls), from the cost meter.', () => one(sources.spend!.spendUsd()));
      if (this.#mentionOutputs.size > 0) gauge('signalpath_kpi_mentions_per_1k_usd', 'Mentions per $1000 of spend, over the run.', () => one(this.#mentionsPer1kUsd(sources.spend!.spendUsd())));
    }
    const feedback = this.feedback;
    if (feedback !== null) {
      counter('signalpath_kpi_labels_total', 'Labels received for mentions, by verdict ("unmatched": the mention is not known to this process).', () =>
        Object.entries(feedback.verdicts).map(([verdict, value]) => ({ labels: { topology, verdict }, value })),
      );
      gauge('signalpath_kpi_precision', 'Share of labelled mentions (true or false positive) that are true positives.', () => one(feedback.precision()));
      gauge('signalpath_kpi_recall_at_precision', 'Largest share of labelled true positives a score cut-off keeps at this precision or better (labelled sample).', () =>
        feedback.recallAtPrecision(PRECISION_TIERS).flatMap(({ precision, recall }) => (recall === null ? [] : [{ labels: { topology, precision: String(precision) }, value: recall }])),
      );
      registerCollected(registry, {
        name: 'signalpath_kpi_feedback_latency_seconds',
        help: 'Feedback-loop latency: mention emitted by this process → its first label received.',
        type: 'histogram',
        collect: () => histogramSeries('signalpath_kpi_feedback_latency_seconds', { topology }, feedback.latency),
      });
    }
    if (sources.cache !== undefined) {
      counter('signalpath_kpi_cache_requests_total', 'Enrichment cache lookups by result (hit, miss).', () => {
        const { hits, misses } = sources.cache!();
        return [
          { labels: { topology, result: 'hit' }, value: hits },
          { labels: { topology, result: 'miss' }, value: misses },
        ];
      });
      gauge('signalpath_kpi_cache_hit_ratio', 'Enrichment cache hits / (hits + misses), over the run.', () => one(this.#cacheHitRatio()));
    }
    if (sources.lanes !== undefined) {
      const perLane = (pick: (lane: LaneLoad) => number) => (): PromValue[] => sources.lanes!().map((lane) => ({ labels: { topology, lane: String(lane.lane) }, value: pick(lane) }));
      counter('signalpath_kpi_lane_records_total', 'Records processed per lane.', perLane((lane) => lane.records));
      counter('signalpath_kpi_lane_busy_seconds_total', 'Time spent in work per lane.', perLane((lane) => lane.busyMs / 1000));
      gauge('signalpath_kpi_lane_queued', 'Records queued per lane now.', perLane((lane) => lane.queued));
      gauge('signalpath_kpi_lane_load_cv', 'Spread of load across lanes: standard deviation / mean of records per lane over the last 10 s (0 = even).', () =>
        one(coefficientOfVariation(this.#recentLaneRecords(sources.lanes!()))),
      );
    }
    if (sources.budget !== undefined) {
      gauge('signalpath_kpi_budget_share', 'Share of the sampling budget each bandit arm got in the latest epoch.', () =>
        sources.budget!().map((arm) => ({ labels: { topology, arm: arm.arm }, value: arm.share })),
      );
      counter('signalpath_kpi_budget_records_total', 'Records each bandit arm chose, so far.', () => sources.budget!().map((arm) => ({ labels: { topology, arm: arm.arm }, value: arm.records })));
    }
    gauge('signalpath_kpi_tail_recovery_seconds', 'How long end-to-end p99 stayed above 2× its running value in the latest latency spike (absent before the first).', () =>
      one(this.recovery.lastRecoveryMs === null ? null : this.recovery.lastRecoveryMs / 1000),
    );
    gauge('signalpath_kpi_tail_spike_active_seconds', 'How long the latency spike under way has lasted (0 = none).', () => one(this.recovery.activeForMs(Date.now()) / 1000));
    counter('signalpath_kpi_tail_spikes_total', 'Latency spikes (end-to-end p99 above 2× its running value) that have recovered.', () => one(this.recovery.episodes));
  }
}

/** Standard deviation / mean; null for no values or a zero mean. */
export function coefficientOfVariation(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (mean === 0) return null;
  const variance = values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / values.length;
  return Math.sqrt(variance) / mean;
}
