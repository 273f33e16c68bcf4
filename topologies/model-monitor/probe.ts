/**
 * What model-monitor's steps pass between them (a scored record, a monitored record) and the counters
 * one instance keeps for the demo, the lab and tests ({@link ModelMonitorProbe}).
 */
import type { BudgetAllocation } from '../../operators/bandit-budget.js';
import type { SketchAlarm, SketchCounts } from '../../operators/change-sketch.js';
import { EnrichCounters, type Enriched } from '../../operators/enrich.js';
import { PartitionProbe } from '../../operators/keyed-partition.js';
import { DetectCounters } from '../../operators/parallel-detect.js';
import { DedupCounters } from '../../operators/windowed-dedup.js';
import type { InferenceEvent } from '../../schemas/index.js';
import { EnrichDelayCounters } from './enrich-delay.js';
import type { LabelJoin } from './label-join.js';
import type { LevelRecalibrator } from './recalibration.js';
import type { ShadowCounts } from './shadow-path.js';

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
