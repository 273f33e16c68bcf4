/**
 * What model-monitor's steps share, built once per {@link createModelMonitor} instance: the
 * configuration, the probe, the seeded random source, the label join and recalibration, the registry
 * lookup, the thresholds and the bounded per-model and per-event memories. The fields under "per chain"
 * are set by the step that owns them when the runner builds the chain (the latest build wins) and read
 * by the steps after it.
 */
import type { Subject } from 'rxjs';
import { LRUCache } from 'lru-cache';
import type { ArmFeedback } from '../../../operators/bandit-budget.js';
import { backgroundRate, type BackgroundRate } from '../../../operators/background-rate.js';
import type { WatermarkHold } from '../../../operators/watermark-hold.js';
import type { WindowDelayProbe } from '../../../operators/window-delay-probe.js';
import { SeededRandom } from '../../../core/random.js';
import type { ModelMonitorConfig } from '../config.js';
import type { EnrichDelayTracker } from '../enrich-delay.js';
import { LabelJoin } from '../label-join.js';
import type { ModelMonitorProbe } from '../probe.js';
import { LevelRecalibrator, recalibratorOptions } from '../recalibration.js';
import { registryLookup, type ModelMetadata } from '../registry-client.js';
import type { ShadowPath } from '../shadow-path.js';
import { SKETCH_DETECTOR } from '../sketch-evidence.js';
import { thresholdFor } from '../thresholds.js';

/** What every step of one model-monitor instance may read (and the per-chain parts it may set). */
export interface MonitorContext {
  readonly config: ModelMonitorConfig;
  readonly probe: ModelMonitorProbe;
  readonly random: SeededRandom;
  readonly recalibration: LevelRecalibrator;
  /** The registry's metadata of a model, or undefined (always, and counted, when no registry is configured). */
  readonly lookup: (modelId: string, signal: AbortSignal) => Promise<ModelMetadata | undefined>;
  /** Each detector's own threshold (tuned, thresholds.ts), and the sketch's. */
  readonly ownThreshold: ReadonlyMap<string, number>;
  /** The threshold a finding must reach: the detector's own, raised by the registry's per field. */
  readonly thresholdOf: (thresholds: Readonly<Record<string, number>> | undefined, field: string, detector: string) => number;
  /** Per model: the registry's thresholds and owner, for mentions (bounded). */
  readonly metadataByModel: LRUCache<string, { owner?: string; thresholds?: Readonly<Record<string, number>> }>;
  /** Per sampled event: when it entered this process and its event time, for time-to-mention (bounded). */
  readonly arrivals: LRUCache<string, { arrivedAtMs: number; ts: number }>;
  /** The sampled detectors' background of findings per model × segment × window (noted by apply-thresholds, judged by min-evidence). */
  readonly background: BackgroundRate;
  // Per chain:
  /** The bandit's feedback (set by sample, fed by apply-thresholds); absent without the bandit. */
  feedbackSink: Subject<ArmFeedback> | undefined;
  /** The watermark hold between hold-watermark and release-watermark. */
  hold: WatermarkHold | undefined;
  /** The probe around enrichment: which records it delayed past their dedup window (hold-watermark → enrich-model). */
  enrichProbe: WindowDelayProbe | undefined;
  /** What enrichment delayed or failed, and the mentions those records reached (enrich-model → annotate). */
  enrichDelay: EnrichDelayTracker | undefined;
  /** The shadow detectors' side path (shadow → shadow-out); absent without MODEL_MONITOR_SHADOW_DETECTORS. */
  shadow: ShadowPath | undefined;
}

/** Builds the shared context and sets the probe's label join, recalibration and enrichment flag. */
export function createMonitorContext(config: ModelMonitorConfig, probe: ModelMonitorProbe): MonitorContext {
  const random = SeededRandom.fromSeed(config.seed);
  // Labels move the sketch's level per field (and model × field): recalibration.ts, docs/feedback.md.
  const recalibration = new LevelRecalibrator(recalibratorOptions(config));
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
  // A finding has passed its detector's own threshold; the registry may raise it per model and field.
  // Tuned per MODEL_MONITOR_THRESHOLD_TUNING on labelled data that is not the evaluated stream (thresholds.ts).
  const ownThreshold = new Map(config.detectors.map((name) => [name, thresholdFor(name, config.thresholdTuning)]));
  // A sketch alarm's score is statistic / cap, 1 / capFactor at its level: that is its threshold.
  ownThreshold.set(SKETCH_DETECTOR, 0.8);
  return {
    config,
    probe,
    random,
    recalibration,
    lookup,
    ownThreshold,
    thresholdOf: (thresholds, field, detector) => (detector === SKETCH_DETECTOR ? 0.8 : Math.max(ownThreshold.get(detector) ?? 0, thresholds?.[field] ?? 0)),
    metadataByModel: new LRUCache({ max: 100_000 }),
    arrivals: new LRUCache({ max: 200_000 }),
    background: backgroundRate({ windowMs: config.dedupWindowMs, alpha: config.evidenceAlpha, lookbackWindows: config.evidenceWindows, minEvents: config.minEvents }),
    feedbackSink: undefined,
    hold: undefined,
    enrichProbe: undefined,
    enrichDelay: undefined,
    shadow: undefined,
  };
}
