/**
 * The lab's variants: the efficiency-tuned baseline, the signal-path topology, and one ablation per
 * component. Each is model-monitor with its MODEL_MONITOR_* variables; an ablation changes exactly
 * one component of signal-path (`from`), so its difference to signal-path is that component's share.
 * Every variant samples the same fraction of the input (equal budgets), but for the two bounds:
 *
 * - `ceiling`: signal-path without sampling (MODEL_MONITOR_SAMPLE_FRACTION=1): what its detection
 *   design finds when the budget is not the limit — the upper bound of every sampled variant;
 * - `sketch-only`: signal-path with the sampled detectors off (MODEL_MONITOR_DETECTORS=none) and the
 *   full-coverage sketch stage on (MODEL_MONITOR_SKETCH=on): what the sketch finds alone. A
 *   model-monitor that does not accept these settings yet makes the lab skip it, with the reason.
 */

export type Component = 'all' | 'budget' | 'sampling' | 'enrichment' | 'partitioning' | 'detection' | 'dedup' | 'recalibration';

export interface LabVariant {
  readonly name: string;
  /** What it is, in a few words (report tables). */
  readonly label: string;
  readonly component: Component;
  /** The variant it changes one thing of, or undefined for the two reference variants. */
  readonly from?: 'baseline' | 'signal-path';
  readonly env: Readonly<Record<string, string>>;
  /**
   * Set on a variant that needs settings model-monitor may not have yet: the lab then checks its
   * variables against model-monitor's configuration first and skips it, with this note and the
   * rejection, when they are not accepted (instead of failing the run or measuring something else).
   */
  readonly needs?: string;
  /**
   * Which lanes the lab's labelers label for this variant (lab/labeler). Default both: the fast lane
   * (`mentions.review`) and the slow lane (`mentions`). `slow`: the labelers do not follow the fast
   * lane at all, so every label comes in the slow lane's batches; model-monitor runs unchanged.
   */
  readonly labelLanes?: 'both' | 'slow';
  /** Set on the variants of an opt-in experiment: not run unless asked for (`--recalibration`, `--only`). */
  readonly experiment?: 'recalibration';
  /** The level factor the variant starts from (MODEL_MONITOR_LEVEL_SCALE); recalibration variants only. */
  readonly levelScale?: number;
}

import { MODEL_MONITOR_SETTINGS } from '../../topologies/model-monitor/config.js';

/**
 * The sketch stage's switch, once model-monitor has it: on for signal-path, off for the baseline (the
 * study's efficiency-tuned baseline had no full-coverage stage). Empty while model-monitor has no such
 * setting, so that the variants stay what they were.
 */
function sketch(on: boolean): Record<string, string> {
  const known = Object.values(MODEL_MONITOR_SETTINGS).some((setting) => (setting.env as string) === 'MODEL_MONITOR_SKETCH');
  // With the sketch, model-monitor's default is the sketch alone (MODEL_MONITOR_DETECTORS=none); the
  // baseline detects after sampling, with the detectors it always had.
  return known ? { MODEL_MONITOR_SKETCH: on ? 'on' : 'off', MODEL_MONITOR_DETECTORS: on ? 'none' : 'ewma-zscore,cusum' } : {};
}

/** Settings of the signal-path topology; ablations override one component. */
function signalPath(sampleFraction: number): Record<string, string> {
  return {
    ...sketch(true),
    MODEL_MONITOR_SAMPLING: 'bandit',
    MODEL_MONITOR_SAMPLE_FRACTION: String(sampleFraction),
    MODEL_MONITOR_ENRICH_MODE: 'async',
    MODEL_MONITOR_ENRICH_CACHE_ENTRIES: '10000',
    MODEL_MONITOR_LANE_KEY: 'model-segment',
    MODEL_MONITOR_ROUTING: 'consistent',
    MODEL_MONITOR_BOUNDED_LOAD_EPSILON: '0.02',
    MODEL_MONITOR_STEALING: 'true',
    MODEL_MONITOR_THRESHOLD_TUNING: 'f-beta',
    MODEL_MONITOR_DEDUP_MODE: 'cluster-aware',
  };
}

/**
 * The efficiency-tuned baseline: uniform sampling, batched enrichment without a local cache, static
 * hashing by model without stealing (as the study's baseline hashed: one lane owns each model),
 * precision-tuned threshold, strict dedup, no sketch stage (once model-monitor has one).
 */
function baseline(sampleFraction: number): Record<string, string> {
  return {
    ...sketch(false),
    MODEL_MONITOR_SAMPLING: 'uniform',
    MODEL_MONITOR_SAMPLE_FRACTION: String(sampleFraction),
    MODEL_MONITOR_ENRICH_MODE: 'batched',
    MODEL_MONITOR_ENRICH_CACHE_ENTRIES: '0',
    MODEL_MONITOR_LANE_KEY: 'model',
    MODEL_MONITOR_ROUTING: 'static',
    MODEL_MONITOR_BOUNDED_LOAD_EPSILON: '0',
    MODEL_MONITOR_STEALING: 'false',
    MODEL_MONITOR_THRESHOLD_TUNING: 'precision',
    MODEL_MONITOR_DEDUP_MODE: 'strict',
  };
}

/** Every variant, the two references first, at `sampleFraction` of the input (the study: 1%). */
export function labVariants(sampleFraction = 0.01): LabVariant[] {
  const sp = signalPath(sampleFraction);
  const ablation = (name: string, label: string, component: Component, change: Record<string, string>): LabVariant => ({ name, label, component, from: 'signal-path', env: { ...sp, ...change } });
  return [
    { name: 'baseline', label: 'efficiency-tuned baseline', component: 'all', env: baseline(sampleFraction) },
    { name: 'signal-path', label: 'signal-path topology', component: 'all', env: sp },
    ablation('sampling-uniform', 'uniform sampling only', 'sampling', { MODEL_MONITOR_SAMPLING: 'uniform' }),
    ablation('sampling-stratified', 'stratified sampling only', 'sampling', { MODEL_MONITOR_SAMPLING: 'stratified' }),
    ablation('sampling-adaptive', 'adaptive sampling only', 'sampling', { MODEL_MONITOR_SAMPLING: 'adaptive' }),
    ablation('enrich-batched', 'batched enrichment, no LRU', 'enrichment', { MODEL_MONITOR_ENRICH_MODE: 'batched', MODEL_MONITOR_ENRICH_CACHE_ENTRIES: '0' }),
    // Same lane key as signal-path (model × segment): the ablation isolates routing and stealing.
    ablation('partition-static', 'static hashing, no stealing', 'partitioning', { MODEL_MONITOR_ROUTING: 'static', MODEL_MONITOR_BOUNDED_LOAD_EPSILON: '0', MODEL_MONITOR_STEALING: 'false' }),
    ablation('detector-precision', 'precision-tuned threshold', 'detection', { MODEL_MONITOR_THRESHOLD_TUNING: 'precision' }),
    ablation('dedup-strict', 'strict dedup', 'dedup', { MODEL_MONITOR_DEDUP_MODE: 'strict' }),
    { ...ablation('ceiling', 'no sampling (upper bound)', 'budget', { MODEL_MONITOR_SAMPLE_FRACTION: '1' }) },
    ...recalibrationVariants(sp),
    {
      ...ablation('sketch-only', 'full-coverage sketch alone, sampled detectors off', 'detection', { MODEL_MONITOR_DETECTORS: 'none', MODEL_MONITOR_SKETCH: 'on' }),
      needs: 'the sketch stage in model-monitor (MODEL_MONITOR_DETECTORS=none, MODEL_MONITOR_SKETCH=on)',
    },
  ];
}

/**
 * The recalibration experiment (docs/lab.md): signal-path started at the calibrated levels and at
 * deliberately miscalibrated ones (×0.5, ×2 of every level factor), learning online from labels
 * (MODEL_MONITOR_RECALIBRATE=on) fed by both lanes or by the slow lane alone. Fast and slow variants
 * of one start run the very same model-monitor settings — review share included, so the same
 * mentions are copied to `mentions.review` —; only the labelers differ: for a slow variant they
 * ignore the fast lane and label every mention in the slow lane's batches. So the comparison is of
 * when labels arrive, not of which mentions exist or how many labels there are.
 */
function recalibrationVariants(sp: Record<string, string>): LabVariant[] {
  const variant = (name: string, label: string, levelScale: number, labelLanes: 'both' | 'slow'): LabVariant => ({
    name,
    label,
    component: 'recalibration',
    from: 'signal-path',
    env: { ...sp, MODEL_MONITOR_RECALIBRATE: 'on', MODEL_MONITOR_LEVEL_SCALE: String(levelScale) },
    labelLanes,
    experiment: 'recalibration',
    levelScale,
    needs: 'online recalibration in model-monitor (MODEL_MONITOR_RECALIBRATE, MODEL_MONITOR_LEVEL_SCALE)',
  });
  return [
    variant('recal-calibrated', 'calibrated levels, fast + slow lane labels (reference)', 1, 'both'),
    variant('recal-half-fast', 'levels ×0.5, fast + slow lane labels', 0.5, 'both'),
    variant('recal-half-slow', 'levels ×0.5, slow lane labels only', 0.5, 'slow'),
    variant('recal-double-fast', 'levels ×2, fast + slow lane labels', 2, 'both'),
    variant('recal-double-slow', 'levels ×2, slow lane labels only', 2, 'slow'),
  ];
}
