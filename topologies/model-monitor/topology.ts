/**
 * model-monitor — the reference topology: the signal path the project exists for.
 *
 * ```
 * inference-events → validate → preliminary-score → sample (bandit over uniform · stratified · adaptive)
 *   → enrich-model (registry over fetch, LRU cache, async pool) → partition-by-model (lanes keyed by
 *   model × segment: consistent hashing with loads bounded by recent records, + work stealing)
 *   → detect (per model × segment × field) → apply-thresholds (the registry's, per model)
 *   → dedup (cluster-aware event-time windows) → annotate → review-lane → mentions (+ mentions.review)
 * ```
 *
 * The preliminary score is a cheap per-key |z| that tells the adaptive sampler which records look
 * interesting; the detectors see only what the sampler lets through. The bandit learns which sampling
 * arm yields findings per record sampled (feedback from apply-thresholds). Records a step cannot handle
 * (malformed values, a detector that throws) go to `model-monitor.dlq` through the step context;
 * a registry that fails flags the record and the detectors fall back to the default threshold.
 *
 * `createModelMonitor(config)` builds it with a {@link ModelMonitorProbe} (the lab and the demo read
 * counters from it); `index.ts` builds it from the environment for `signalpath run model-monitor`.
 */
import { LRUCache } from 'lru-cache';
import { map, mergeMap, Observable, Subject, tap, type OperatorFunction } from 'rxjs';
import { adaptiveSample } from '../../operators/adaptive-sample.js';
import { banditBudget, type ArmFeedback, type BanditArm, type BudgetAllocation } from '../../operators/bandit-budget.js';
import { changeSketch, type SketchAlarm, type SketchCounts } from '../../operators/change-sketch.js';
import { perKeyDetector, type Finding, type RecordDetector } from '../../operators/parallel-detect/index.js';
import { CIRCUIT_STATE_VALUE, enrich, EnrichCounters, type Enriched } from '../../operators/enrich.js';
import { keyedPartition, PartitionProbe } from '../../operators/keyed-partition.js';
import { DetectCounters, parallelDetect, type Detection } from '../../operators/parallel-detect.js';
import { SeededRandom } from '../../core/random.js';
import type { Sampled, SamplingStrategy } from '../../operators/adaptive-sample.js';
import { DedupCounters, windowedDedup } from '../../operators/windowed-dedup.js';
import { dropRecord, withValue, type Envelope } from '../../core/envelope.js';
import { assertSnapshotVersion, type OperatorStateHandle } from '../../core/state.js';
import { defineTopology, filterRecords, mapRecords, withContext, type RoutedEnvelope, type StepChain, type Topology, type TopologyGauge } from '../../runtime/topology.js';
import { InferenceEventContract, MentionContract, type InferenceEvent, type Mention } from '../../schemas/index.js';
import { registryLookup, type ModelMetadata } from './registry-client.js';
import type { KpiSources, SpendMeter } from '../../runtime/telemetry/kpis.js';
import { dedupMetrics } from '../../runtime/telemetry/dedup-metrics.js';
import type { ModelMonitorConfig } from './config.js';
import { BackgroundRate } from './background-rate.js';
import { EnrichDelayCounters, EnrichDelayTracker } from './enrich-delay.js';
import { EventTimeHold } from './event-time-hold.js';
import { PreliminaryScorer, samplingWeight } from './preliminary-score.js';
import { reviewLane } from './review-lane.js';
import { LabelJoin, type LaneFeedback } from './label-join.js';
import { bucketPercentile } from '../../runtime/telemetry/tail-recovery.js';
import { LevelRecalibrator } from './recalibration.js';
import { SketchEvidenceGate, SKETCH_DETECTOR, sketchFieldReader, sketchFindings, sketchTransformOf } from './sketch-evidence.js';
import { thresholdFor } from './thresholds.js';
import { isShadowMentionId, ShadowPath, type ShadowCounts } from './shadow-path.js';

/** A record with its preliminary score, as the samplers see it. */
export interface ScoredEvent {
  readonly event: InferenceEvent;
  /** |z|-like: the preliminary scorer's largest |z|, or 3 × the sketch's suspicion of the record's key. */
  readonly preliminaryScore: number;
  /** The sketch's alarms on this record (none when the sketch is off). */
  readonly alarms: readonly SketchAlarm[];
  /** The alarms this record carries past the sampler as evidence (set by the sample step). */
  readonly evidence?: readonly SketchAlarm[];
}

/** What the detectors see: the event and what the signal path learnt about it. */
export interface MonitoredEvent extends InferenceEvent {
  readonly monitor: {
    readonly arm: string;
    readonly inclusionWeight: number;
    readonly owner: string | undefined;
    readonly thresholds: Readonly<Record<string, number>> | undefined;
    readonly enrichment: Enriched<unknown, unknown>['status'];
    /** Sketch alarms this record is evidence of (arm 'sketch': it passed the sampler outside the budget). */
    readonly sketchAlarms: readonly SketchAlarm[];
  };
}

/** Counters of one model-monitor instance (the latest run), for the demo, the lab and tests. */
export class ModelMonitorProbe {
  readonly enrich = new EnrichCounters();
  readonly detect = new DetectCounters();
  readonly dedup = new DedupCounters();
  /** Records enrichment delayed past their dedup window or failed, and the mentions they reached (enrich-delay.ts). */
  readonly enrichDelay = new EnrichDelayCounters();
  readonly partition = new PartitionProbe();
  /** The bandit's decisions, the latest 10 000. */
  readonly allocations: BudgetAllocation[] = [];
  /** Records that passed validation, and that the sampler let through. */
  validated = 0;
  sampled = 0;
  /** Records with at least one finding above the registry's threshold, by sampling arm. */
  readonly findingsByArm = new Map<string, number>();
  readonly sampledByArm = new Map<string, number>();
  mentions = 0;
  reviewed = 0;
  /** Records the sampler dropped because their epoch had already closed (should stay near 0). */
  lateAtSampler = 0;
  /** False when no model registry is configured: enrichment is off, every record goes on without metadata. */
  enrichmentEnabled = true;
  /** Records that went on without metadata because enrichment is off. */
  notEnriched = 0;
  /** Records each bandit arm chose, summed over every closed epoch. */
  readonly chosenByArm = new Map<string, number>();
  /** The change sketch: its counters, its current level h, and the alarmed records it let through as evidence or held back (over the cap per window). */
  sketch: Readonly<SketchCounts> & { level: number } = { records: 0, episodes: 0, relearns: 0, evictions: 0, keys: 0, commonEpisodes: 0, level: 0 };
  sketchEvidence = 0;
  sketchEvidenceCapped = 0;
  /** Labels joined to their mentions, and the level factors they moved (label-join.ts, recalibration.ts); set by createModelMonitor. */
  labelJoin!: LabelJoin;
  recalibration!: LevelRecalibrator;
  recalibrate = false;
  /** Shadow detectors' counters by name (shadow-path.ts); empty without MODEL_MONITOR_SHADOW_DETECTORS. */
  shadow: () => Record<string, ShadowCounts> = () => ({});
}

/** How a record's enrichment status reads in telemetry: did it wait for the registry or not. */
const CACHE_NOTE: Readonly<Record<Enriched<unknown, unknown>['status'], string>> = { hit: 'hit', stale: 'stale-hit', fetched: 'miss', 'not-found': 'not-found', failed: 'miss-failed' };

const NUMERIC_FIELDS = ['prediction', 'confidence', 'latency_ms', 'input_tokens', 'output_tokens'] as const;

/** Why a record cannot be monitored, or undefined when it can. */
export function invalidReason(event: InferenceEvent): string | undefined {
  if (typeof event.model_id !== 'string' || event.model_id === '') return 'model_id is empty';
  if (typeof event.segment !== 'string' || event.segment === '') return 'segment is empty';
  for (const field of NUMERIC_FIELDS) if (!Number.isFinite(event[field])) return `${field} is not a finite number (${event[field]})`;
  if (!Number.isFinite(event.ts)) return 'ts is not a finite number';
  if (event.features.some((x) => !Number.isFinite(x))) return 'features hold a non-finite value';
  return undefined;
}

/**
 * The key that keeps a record's lane, and so the only order the lanes promise to keep.
 *
 * Order per model × segment is all that follows needs: the detectors keep state per model × segment ×
 * field (parallelDetect calls them in arrival order, synchronous detectors keep it); apply-thresholds
 * is per record; background-rate counts per model × segment × event-time window, whatever the order;
 * dedup groups by event-time window and closes windows by watermark (held back between sample and
 * dedup by hold-watermark/release-watermark), not by arrival order. The one state wider than a
 * segment is the fallback detector per model that scores a segment while it warms up: it learns every
 * record of the model and relies on no order across segments. Its input is an interleaving of the
 * model's segments that Kafka partitions, source batches and the sampler's epochs already make
 * arbitrary; lanes by model × segment keep each segment's records in order within it and may only
 * interleave segments differently, which is as valid a baseline as any. 'model' keeps the whole
 * model in order, at the price of a hot model loading one lane. The step keeps its stable name
 * `partition-by-model` (metric labels, changelog keys) whichever key is chosen.
 */
function laneKeyOf(laneKey: ModelMonitorConfig['laneKey']): (envelope: Envelope<Enriched<Sampled<ScoredEvent>, ModelMetadata>>) => string {
  if (laneKey === 'model') return (envelope) => envelope.value.record.record.event.model_id;
  // Ids holding a NUL could make two pairs share a key: that only puts both on one lane, more order, not less.
  return (envelope) => `${envelope.value.record.record.event.model_id}\u0000${envelope.value.record.record.event.segment}`;
}

/** What a caller may add to the configuration. */
export interface ModelMonitorExtras {
  /** The cost meter behind the spend KPIs (mentions per $1k); absent: those metrics are not exported. */
  readonly spend?: SpendMeter;
}

/** Where the runtime reads model-monitor's KPIs: its mention output, labels, enrich, lanes and bandit. */
function kpiSources(config: ModelMonitorConfig, probe: ModelMonitorProbe, extras: ModelMonitorExtras): KpiSources {
  return {
    mentionOutputs: ['mentions'],
    mentionOf: (value) => ({ id: (value as Mention).mention_id, score: (value as Mention).score }),
    ...(config.labelsTopic ? { labelsTopic: config.labelsTopic } : {}),
    // Every label also meets its mention in the label-join step's state and may move a level.
    // A shadow mention's label is for shadow-report only: it never moves a live level.
    onLabel: (mentionId, verdict, receivedAtMs) => void (isShadowMentionId(mentionId) ? undefined : probe.labelJoin.label(mentionId, verdict, receivedAtMs)),
    ...(extras.spend === undefined ? {} : { spend: extras.spend }),
    cache: () => ({ hits: probe.enrich.hits + probe.enrich.staleHits, misses: probe.enrich.misses }),
    lanes: () => probe.partition.lanes().map((lane) => ({ lane: lane.lane, records: lane.records, busyMs: lane.busyMs, queued: lane.queued })),
    ...(config.sampling !== 'bandit'
      ? {}
      : {
          budget: () => {
            const latest = probe.allocations[probe.allocations.length - 1];
            return latest === undefined ? [] : latest.arms.map((arm) => ({ arm: arm.arm, share: arm.share, records: probe.chosenByArm.get(arm.arm) ?? 0 }));
          },
        }),
  };
}

export function createModelMonitor(config: ModelMonitorConfig, extras: ModelMonitorExtras = {}): { topology: Topology<InferenceEvent>; probe: ModelMonitorProbe } {
  const probe = new ModelMonitorProbe();
  const random = SeededRandom.fromSeed(config.seed);
  // Labels move the sketch's level per field (and model × field): recalibration.ts, docs/feedback.md.
  const recalibration = new LevelRecalibrator({
    fields: config.fields,
    enabled: config.recalibrate,
    targetPrecision: config.targetPrecision,
    priorLabels: config.recalibrationPriorLabels,
    memoryLabels: config.recalibrationMemoryLabels,
    raiseFactor: config.recalibrationRaise,
    lowerFactor: config.recalibrationLower,
    floor: config.levelFloor,
    ceiling: config.levelCeiling,
    modelLabels: config.recalibrationModelLabels,
    maxModels: 10_000,
    initialScale: config.levelScale,
  });
  probe.recalibration = recalibration;
  probe.recalibrate = config.recalibrate;
  probe.labelJoin = new LabelJoin({
    maxAwaiting: config.labelJoinMaxAwaiting,
    maxApplied: config.labelJoinMaxAwaiting,
    maxEarly: 10_000,
    apply: (mention, truePositive) => recalibration.label(mention.model, mention.field, truePositive),
  });
  // Without a registry, enrichment is off: every model is unknown (no owner, the detectors' own
  // levels) and no lookup leaves the process. The records still pass the enrich step (one chain).
  probe.enrichmentEnabled = config.registryUrl !== undefined;
  const lookup =
    config.registryUrl === undefined
      ? (): Promise<ModelMetadata | undefined> => {
          probe.notEnriched++;
          return Promise.resolve(undefined);
        }
      : registryLookup(config.registryUrl);
  const stratumOf = (value: ScoredEvent): string => `${value.event.model_id}|${value.event.segment}`;
  const strategies: Record<'uniform' | 'stratified' | 'adaptive', SamplingStrategy<ScoredEvent>> = {
    uniform: { kind: 'uniform-reservoir' },
    stratified: { kind: 'stratified', stratumOf, allocation: 'congressional', maxStrata: 512 },
    // One reservoir over all keys: a high preliminary score anywhere outranks normal traffic everywhere.
    adaptive: { kind: 'adaptive', scoreOf: (value) => samplingWeight(value.preliminaryScore) },
  };
  // A finding has passed its detector's own threshold; the registry may raise it per model and field.
  // Tuned per MODEL_MONITOR_THRESHOLD_TUNING on labelled data that is not the evaluated stream (thresholds.ts).
  const ownThreshold = new Map(config.detectors.map((name) => [name, thresholdFor(name, config.thresholdTuning)]));
  // A sketch alarm's score is statistic / cap, 1 / capFactor at its level: that is its threshold.
  ownThreshold.set(SKETCH_DETECTOR, 0.8);
  const thresholdOf = (thresholds: Readonly<Record<string, number>> | undefined, field: string, detector: string): number =>
    detector === SKETCH_DETECTOR ? 0.8 : Math.max(ownThreshold.get(detector) ?? 0, thresholds?.[field] ?? 0);
  // Per model: the registry's thresholds and owner, for mentions (bounded).
  const metadataByModel = new LRUCache<string, { owner?: string; thresholds?: Readonly<Record<string, number>> }>({ max: 100_000 });
  // Per sampled event: when it entered this process and its event time, for time-to-mention (bounded).
  const arrivals = new LRUCache<string, { arrivedAtMs: number; ts: number }>({ max: 200_000 });

  const sample = (state?: OperatorStateHandle): OperatorFunction<Envelope<ScoredEvent>, Envelope<Sampled<ScoredEvent>>> => {
    if (config.sampling !== 'bandit') {
      return adaptiveSample<ScoredEvent>({
        strategy: strategies[config.sampling],
        budget: { fraction: config.sampleFraction },
        windowMs: config.epochMs,
        maxHeldRecords: 200_000,
        maxOpenWindows: 100,
        lateRecords,
        label: config.sampling,
        random,
        state,
      });
    }
    const feedback = new Subject<ArmFeedback>();
    feedbackSink = feedback;
    const arms: BanditArm<ScoredEvent>[] = (['uniform', 'stratified', 'adaptive'] as const).map((name) => ({ name, strategy: strategies[name] }));
    return banditBudget<ScoredEvent>({
      arms,
      budget: { fraction: config.sampleFraction },
      epochMs: config.epochMs,
      feedback,
      policy: config.banditPolicy,
      discount: config.banditDiscount,
      maxHeldRecords: 200_000,
      // Partitions are consumed in batches, so event time runs ahead on one partition while the
      // watermark waits for the slowest, and one batch of a quiet partition can span many minutes of
      // event time (source alignment acts between batches, not within one): keep enough epochs open
      // that none closes early. What they hold is bounded by maxHeldRecords, not by the epoch count.
      maxOpenEpochs: 100,
      lateRecords,
      random,
      state,
      onAllocation: (allocation) => {
        probe.allocations.push(allocation);
        for (const arm of allocation.arms) probe.chosenByArm.set(arm.arm, (probe.chosenByArm.get(arm.arm) ?? 0) + arm.records);
        if (probe.allocations.length > 10_000) probe.allocations.shift();
      },
    });
  };
  let feedbackSink: Subject<ArmFeedback> | undefined;
  // Alarmed records of the sketch pass the sampler outside its budget, a few per model × segment ×
  // field × direction and dedup window (sketch-evidence.ts), at once; every other record meets the
  // budget. Downstream, dedup's windows close by the held-back watermark, so evidence that runs ahead
  // of the sampler's epochs waits there like any record.
  const sampleWithEvidence = (state?: OperatorStateHandle): OperatorFunction<Envelope<ScoredEvent>, Envelope<Sampled<ScoredEvent>>> =>
    (source) =>
      new Observable<Envelope<Sampled<ScoredEvent>>>((subscriber) => {
        const gate = new SketchEvidenceGate({ perWindow: config.sketchEvidencePerWindow, windowMs: config.dedupWindowMs });
        const toSampler = new Subject<Envelope<ScoredEvent>>();
        const sampled = toSampler.pipe(sample(state)).subscribe(subscriber);
        const subscription = source.subscribe({
          next: (envelope) => {
            const { event, alarms } = envelope.value;
            const evidence = alarms.length === 0 ? undefined : gate.admit(event.model_id, event.segment, event.ts, alarms);
            probe.sketchEvidenceCapped = gate.capped;
            if (evidence === undefined) {
              toSampler.next(envelope);
              return;
            }
            probe.sketchEvidence++;
            subscriber.next(withValue(envelope, { record: { ...envelope.value, evidence }, inclusionWeight: 1, strategy: 'sketch' }));
          },
          error: (error) => toSampler.error(error),
          complete: () => toSampler.complete(),
        });
        return () => {
          subscription.unsubscribe();
          sampled.unsubscribe();
        };
      });
  const background = new BackgroundRate({ windowMs: config.dedupWindowMs, alpha: config.evidenceAlpha, lookbackWindows: config.evidenceWindows });
  const lateRecords = (envelope: Envelope<ScoredEvent>): void => {
    probe.lateAtSampler++;
    dropRecord(envelope);
  };
  let hold: EventTimeHold | undefined;
  let enrichDelay: EnrichDelayTracker | undefined;
  // Shadow detectors: a side path from the `shadow` step to the last one (shadow-path.ts); built per chain.
  const shadowOptions = { specs: config.shadowDetectors, fields: config.fields, falseAlarmsPerHour: config.falseAlarmsPerHour, maxKeys: config.sketchMaxKeys, relativeToFallback: config.sketchRelative, peerWindowMs: config.sketchPeerWindowMs, minEpisodeMs: config.sketchMinEpisodeMs, evidencePerWindow: config.sketchEvidencePerWindow, dedupWindowMs: config.dedupWindowMs, dedupMode: config.dedupMode };
  let shadow: ShadowPath | undefined;
  const withShadowTap = (chain: StepChain<Envelope<InferenceEvent>>): StepChain<Envelope<InferenceEvent>> =>
    config.shadowDetectors.length === 0
      ? chain
      : chain.step('shadow', withContext((context) => {
          shadow = new ShadowPath(shadowOptions);
          const current = shadow;
          probe.shadow = () => current.counts();
          return current.tap(context.state);
        }));
  const withShadowJoin = (chain: StepChain<RoutedEnvelope>): StepChain<RoutedEnvelope> =>
    config.shadowDetectors.length === 0 ? chain : chain.step('shadow-out', withContext(() => shadow!.join('shadow')));

  const topology = defineTopology<InferenceEvent>({
    name: 'model-monitor',
    description: 'Samples (bandit over uniform, stratified, adaptive), enriches from the model registry, spreads records over lanes (order kept per model × segment), detects per model × segment × field, deduplicates into Mentions, and copies the borderline ones to the review lane.',
    kpis: kpiSources(config, probe, extras),
    input: { topic: 'inference-events', contract: InferenceEventContract, eventTime: (event) => event.ts },
    outputs: {
      mentions: { topic: 'mentions', contract: MentionContract },
      review: { topic: 'mentions.review', contract: MentionContract },
      ...(config.shadowDetectors.length === 0 ? {} : { shadow: { topic: 'mentions.shadow', contract: MentionContract } }),
    },
    gauges: [
      {
        name: 'signalpath_enrich_circuit_state',
        help: "The enrich step's circuit breaker: 0 closed, 1 half-open (trial lookups), 2 open (lookups not attempted, records flagged).",
        read: () => [{ labels: { step: 'enrich-model' }, value: CIRCUIT_STATE_VALUE[probe.enrich.circuitState] }],
      },
      {
        name: 'signalpath_enrich_enabled',
        help: 'Whether the enrich step looks models up (1) or is off because no model registry is configured (0).',
        read: () => [{ labels: { step: 'enrich-model' }, value: probe.enrichmentEnabled ? 1 : 0 }],
      },
      {
        name: 'signalpath_enrich_circuit_opens',
        help: "Times the enrich step's circuit breaker opened in this run.",
        read: () => [{ labels: { step: 'enrich-model' }, value: probe.enrich.circuitOpens }],
      },
      ...dedupMetrics('dedup', probe.dedup),
      ...recalibrationGauges(probe, () => probe.sketch.level),
    ],
    steps: (input) =>
      withShadowJoin(withShadowTap(input
        .step(
          'validate',
          withContext((context) =>
            mergeMap((envelope: Envelope<InferenceEvent>) => {
              const reason = invalidReason(envelope.value);
              if (reason !== undefined) {
                context.deadLetter(envelope, new TypeError(`cannot monitor event ${envelope.value.event_id}: ${reason}`));
                return [];
              }
              probe.validated++;
              return [envelope];
            }),
          ),
        ))
        .step(
          // With the sketch: its suspicion is the adaptive arm's score; without it, the preliminary |z|.
          config.sketch ? 'sketch' : 'preliminary-score',
          withContext((context): OperatorFunction<Envelope<InferenceEvent>, Envelope<ScoredEvent>> => {
            if (!config.sketch) {
              const scorer = new PreliminaryScorer(config.fields);
              return map((envelope: Envelope<InferenceEvent>) => withValue(envelope, { event: envelope.value, preliminaryScore: scorer.score(envelope.value), alarms: [] }));
            }
            return (source) =>
              source.pipe(
                changeSketch<InferenceEvent>({
                  keyOf: (event) => `${event.model_id}\u0000${event.segment}`,
                  fallbackKeyOf: (event) => event.model_id,
                  fields: config.fields.map((field) => ({ name: field, valueOf: sketchFieldReader(field), transform: sketchTransformOf(field) })),
                  level: { falseAlarmsPerHour: config.falseAlarmsPerHour },
                  maxKeys: config.sketchMaxKeys,
                  relativeToFallback: config.sketchRelative,
                  peerWindowMs: config.sketchPeerWindowMs,
                  minEpisodeMs: config.sketchMinEpisodeMs,
                  levelScales: recalibration,
                  state: context.state,
                  counts: (counts, level) => (probe.sketch = { ...counts, level }),
                }),
                map((envelope) => withValue(envelope, { event: envelope.value.record, preliminaryScore: 3 * envelope.value.suspicion, alarms: envelope.value.alarms })),
              );
          }),
        )
        .step('sample', withContext((context) => sampleWithEvidence(context.state)))
        // Enrichment and lanes reorder records across keys: hold the watermark back for what is still
        // between here and dedup, so that no window closes before its records arrive.
        .step('hold-watermark', withContext(() => {
          hold = new EventTimeHold();
          enrichDelay = new EnrichDelayTracker({ windowSizeMs: config.dedupWindowMs, counters: probe.enrichDelay });
          const current = hold;
          const delay = enrichDelay;
          return map((envelope: Envelope<Sampled<ScoredEvent>>) => {
            const entered = current.enter(envelope);
            delay.entered(entered);
            return entered;
          });
        }))
        .step(
          'enrich-model',
          withContext((context) => (source) => {
            const delay = enrichDelay;
            return source.pipe(enrich<Sampled<ScoredEvent>, ModelMetadata>({
              keyOf: (sampled) => sampled.record.event.model_id,
              lookup,
              step: context.stepName,
              mode: config.enrichMode,
              concurrency: config.enrichConcurrency,
              maxCacheEntries: config.enrichCacheEntries,
              ttlMs: config.enrichTtlMs,
              timeoutMs: config.enrichTimeoutMs,
              ...(config.enrichBreakerFailures === 0 ? {} : { circuitBreaker: { failureThreshold: config.enrichBreakerFailures, openMs: config.enrichBreakerOpenMs } }),
              onFailure: 'flag',
              counters: probe.enrich,
              meter: context.meter,
              random: random.jumped(),
              state: context.state,
            }),
            // Counting only: which records came out after their dedup window had closed, or failed.
            tap((envelope) => delay?.left(envelope, envelope.value.record.record.event.event_id, envelope.value.status === 'failed')));
          }),
        )
        .step(
          'partition-by-model',
          withContext((context) => keyedPartition<Enriched<Sampled<ScoredEvent>, ModelMetadata>, MonitoredEvent>({
            lanes: config.lanes,
            routing: config.routing,
            stealing: config.stealing,
            // The lanes' work is fast and synchronous, so their queues stay empty and neither the
            // active-key bound nor stealing ever acts: only a load measured in finished records can
            // spread a hot key (keyed-partition.ts, boundedLoadMeasure).
            ...(config.routing === 'consistent' && config.boundedLoadEpsilon > 0 ? { boundedLoadEpsilon: config.boundedLoadEpsilon, boundedLoadMeasure: 'recent-records' as const } : {}),
            keyOf: laneKeyOf(config.laneKey),
            probe: probe.partition,
            state: context.state,
            work: (envelope, lane) => {
              const { record: sampled, enrichment, status, retries } = envelope.value;
              // For tail-hotspot spans: which lane, whether enrichment hit the cache, its retries.
              context.annotate?.(envelope, { lane, cache: CACHE_NOTE[status], enrich_retries: retries ?? 0 });
              const event = sampled.record.event;
              probe.sampled++;
              probe.sampledByArm.set(sampled.strategy, (probe.sampledByArm.get(sampled.strategy) ?? 0) + 1);
              if (enrichment !== undefined) metadataByModel.set(event.model_id, { owner: enrichment.owner, thresholds: enrichment.thresholds });
              arrivals.set(event.event_id, { arrivedAtMs: Date.now(), ts: event.ts });
              const monitored: MonitoredEvent = {
                ...event,
                monitor: {
                  arm: sampled.strategy,
                  inclusionWeight: sampled.inclusionWeight,
                  owner: enrichment?.owner,
                  thresholds: enrichment?.thresholds,
                  enrichment: status,
                  sketchAlarms: sampled.record.evidence ?? [],
                },
              };
              return withValue(envelope, monitored);
            },
          })),
        )
        .step(
          'detect',
          withContext((context) =>
            parallelDetect<MonitoredEvent>({
              detectors: sampledDetectors(config.detectors.map((name) => perKeyDetector<MonitoredEvent>({
                  detector: name,
                  fields: config.fields,
                  threshold: ownThreshold.get(name)!,
                  // A rare segment is scored against its model's baseline until it has its own.
                  fallbackKeyOf: (event) => event.model_id,
                  fallbackUntilPoints: config.segmentWarmupPoints,
                }))),
              concurrency: config.detectConcurrency,
              onFailure: 'dead-letter',
              deadLetter: (failure) => context.deadLetter(failure.envelope, failure.error),
              step: context.stepName,
              counters: probe.detect,
              meter: context.meter,
              state: context.state,
            }),
          ),
        )
        .step(
          'apply-thresholds',
          mapRecords((detection: Detection<MonitoredEvent>) => {
            const { monitor } = detection.event;
            const findings: Finding[] = detection.findings.filter((finding) => finding.score >= thresholdOf(monitor.thresholds, finding.field, finding.detector));
            const found = findings.some((finding) => !finding.shadow);
            if (monitor.arm === 'sketch') {
              // Evidence of a sketch alarm, outside the budget: neither the background rate of the
              // sampled detectors nor the bandit's yields may learn from it (it is not a sample).
              probe.findingsByArm.set(monitor.arm, (probe.findingsByArm.get(monitor.arm) ?? 0) + 1);
              return { ...detection, findings: [...findings, ...sketchFindings(monitor.sketchAlarms)] };
            }
            background.note(detection.event.model_id, detection.event.segment, detection.event.ts, findings.filter((finding) => !finding.shadow));
            if (found) probe.findingsByArm.set(monitor.arm, (probe.findingsByArm.get(monitor.arm) ?? 0) + 1);
            feedbackSink?.next({ arm: monitor.arm, mentions: found ? 1 : 0, cost: 1 });
            return findings.length === detection.findings.length ? detection : { ...detection, findings };
          }),
        )
        .step('release-watermark', withContext(() => {
          const current = hold;
          return map((envelope: Envelope<Detection<MonitoredEvent>>) => current?.leave(envelope) ?? envelope);
        }))
        .step('dedup', withContext((context) => windowedDedup<MonitoredEvent>({ mode: config.dedupMode, window: { kind: 'tumbling', sizeMs: config.dedupWindowMs }, state: context.state }, probe.dedup)))
        // One outlying event is what heavy-tailed traffic does all the time; an incident repeats, more
        // often than its key's background of outliers (background-rate.ts).
        .step(
          'min-evidence',
          filterRecords(
            (mention: Mention) =>
              // A sketch alarm is sequential evidence already (its level holds the false-alarm budget):
              // the Poisson test against the sampled detectors' background is for their single points.
              (mention.attributes['detectors'] ?? '').split(',').includes(SKETCH_DETECTOR) ||
              background.surprising(mention.model_id, mention.segment, mention.field, mention.direction, mention.window_start, mention.event_count, config.minEvents),
          ),
        )
        .step(
          'annotate',
          mapRecords((mention: Mention): Mention => {
            const metadata = metadataByModel.get(mention.model_id);
            const first = mention.evidence_event_ids.map((id) => arrivals.get(id)).find((a) => a !== undefined);
            const attributes: Record<string, string> = { ...mention.attributes, threshold: String(thresholdOf(metadata?.thresholds, mention.field, mention.detector)) };
            if (metadata?.owner !== undefined) attributes['owner'] = metadata.owner;
            if (first !== undefined) {
              attributes['first_evidence_arrived_at'] = String(first.arrivedAtMs);
              attributes['first_evidence_ts'] = String(first.ts);
            }
            probe.mentions++;
            enrichDelay?.mention(mention.evidence_event_ids);
            return { ...mention, attributes };
          }),
        )
        // Every mention waits here for its label (keyed by mention_id, in the step's changelog).
        .step('label-join', withContext((context) => labelJoinStep(probe.labelJoin, recalibration, context.state)))
        .step(
          'review-lane',
          reviewLane({
            share: config.reviewShare,
            batchMs: config.reviewBatchMs,
            thresholdOf: (mention) => Number(mention.attributes['threshold'] ?? ownThreshold.get(mention.detector) ?? 1),
            mainOutput: 'mentions',
            reviewOutput: 'review',
            onBatch: (_, reviewed) => (probe.reviewed += reviewed),
            onReview: (mention) => probe.labelJoin.fastLane(mention.mention_id),
          }),
        )),
  });
  return { topology, probe };
}

/**
 * The sampled detectors, made to skip the sketch's evidence records: those passed the sampler outside
 * the budget because they are alarmed, so a baseline learnt from them would be biased (and the
 * detectors would score the same alarm twice). With no detector (`MODEL_MONITOR_DETECTORS=none`) a
 * detector that finds nothing keeps the step and its changelog in place.
 */
function sampledDetectors(detectors: readonly RecordDetector<MonitoredEvent>[]): RecordDetector<MonitoredEvent>[] {
  if (detectors.length === 0) {
    return [{ name: 'none', fields: [], shadow: false, update: () => [], snapshot: () => ({}), restore: () => undefined }];
  }
  return detectors.map((detector) => ({
    name: detector.name,
    fields: detector.fields,
    shadow: detector.shadow,
    update: (record, eventTimeMs) => (record.monitor.arm === 'sketch' ? [] : detector.update(record, eventTimeMs)),
    snapshot: () => detector.snapshot(),
    restore: (state) => detector.restore(state),
  }));
}

/**
 * The label-join step: registers every mention that passes (what its label will move: model, field,
 * whether a sketch alarm made it) and keeps the join and the level factors in the step's snapshot
 * (`labelJoin`, version 1), so a restart keeps the mentions awaiting a label, the ids already applied
 * and the levels. Passes every mention on unchanged.
 */
function labelJoinStep(join: LabelJoin, recalibration: LevelRecalibrator, state: OperatorStateHandle | undefined): OperatorFunction<Envelope<Mention>, Envelope<Mention>> {
  const OP = 'labelJoin';
  return (source) =>
    new Observable<Envelope<Mention>>((subscriber) => {
      state?.attach(
        OP,
        () => ({ operator: OP, version: 1, join: join.snapshot(), levels: recalibration.snapshot() }),
        (snapshot) => {
          assertSnapshotVersion(snapshot, OP, 1);
          // Levels first: labels held in this process are joined by the join's restore and move them.
          recalibration.restore(snapshot['levels'] as Record<string, unknown>);
          join.restore(snapshot['join'] as Record<string, unknown>);
        },
      );
      return source.subscribe({
        next: (envelope) => {
          const mention = envelope.value;
          join.mention(mention.mention_id, { model: mention.model_id, field: mention.field, sketch: (mention.attributes['detectors'] ?? mention.detector).split(',').includes(SKETCH_DETECTOR) });
          subscriber.next(envelope);
        },
        error: (error) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}

/** The recalibration as metrics: level factors and levels per field (and model × field in use), the label join's counters. */
function recalibrationGauges(probe: ModelMonitorProbe, level: () => number): TopologyGauge[] {
  const cells = (): ReturnType<LevelRecalibrator['report']> => probe.recalibration.report(100);
  const lanes = (): [string, LaneFeedback][] => Object.entries(probe.labelJoin.lanes);
  return [
    {
      name: 'signalpath_sketch_level_scale',
      help: "Factor on the sketch's budget-derived level, per field (model=\"*\") and per model × field whose own factor is in use; labels move it (MODEL_MONITOR_RECALIBRATE).",
      read: () => {
        const { fields, models } = cells();
        return [...fields.map((c) => ({ labels: { field: c.field, model: '*' }, value: c.scale })), ...models.filter((c) => c.inUse).map((c) => ({ labels: { field: c.field, model: c.model! }, value: c.scale }))];
      },
    },
    {
      name: 'signalpath_sketch_level',
      help: "The sketch's CUSUM level per field: the budget-derived h × the field's factor.",
      read: () => cells().fields.map((c) => ({ labels: { field: c.field }, value: level() * c.scale })),
    },
    {
      name: 'signalpath_recalibration_precision',
      help: 'Posterior mean precision of the sketch mentions at the current level, per field (Beta, prior at the target precision, older labels fading).',
      read: () => cells().fields.map((c) => ({ labels: { field: c.field }, value: c.posteriorPrecision })),
    },
    {
      name: 'signalpath_label_join_labels_total',
      type: 'counter',
      help: 'Labels by what the label join did with them: applied (true/false positive), unsure, duplicate, relabel, not-recalibrated (no sketch alarm in the mention), early (came before the mention).',
      read: () => {
        const c = probe.labelJoin.counts;
        const outcome = (name: string, value: number) => ({ labels: { outcome: name }, value });
        return [outcome('true-positive', c.truePositives), outcome('false-positive', c.falsePositives), outcome('unsure', c.unsure), outcome('duplicate', c.duplicates), outcome('relabel', c.relabels), outcome('not-recalibrated', c.notRecalibrated), outcome('early', c.early)];
      },
    },
    {
      name: 'signalpath_label_join_feedback_latency_p50_seconds',
      help: 'Feedback-loop latency per lane (fast: copied to mentions.review; slow: the rest): median of mention emitted → its first true/false-positive label received, this process.',
      read: () => lanes().flatMap(([lane, feedback]) => {
        const p50 = bucketPercentile(feedback.latency.boundsMs, feedback.latency.counts, 50);
        return p50 === null ? [] : [{ labels: { lane }, value: p50 / 1000 }];
      }),
    },
    {
      name: 'signalpath_label_join_precision',
      help: 'Labelled precision per lane: true / (true + false positive) labels of the mentions of that lane, this process.',
      read: () => lanes().flatMap(([lane, feedback]) => {
        const precision = feedback.precision();
        return precision === null ? [] : [{ labels: { lane }, value: precision }];
      }),
    },
    {
      name: 'signalpath_label_join_awaiting',
      help: 'Mentions waiting for a label now (bounded by MODEL_MONITOR_LABEL_JOIN_MAX_AWAITING).',
      read: () => [{ labels: {}, value: probe.labelJoin.awaiting }],
    },
    {
      name: 'signalpath_label_join_evicted_total',
      type: 'counter',
      help: 'Mentions dropped unlabelled because too many were waiting.',
      read: () => [{ labels: {}, value: probe.labelJoin.counts.awaitingEvicted }],
    },
  ];
}
