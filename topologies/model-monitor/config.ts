/**
 * model-monitor's configuration: every knob is an environment variable, validated with zod when the
 * topology is loaded, before anything connects. A bad value stops the start with a message that names
 * the variable and what it accepts.
 */
import { z } from 'zod';
import { ConfigError } from '../../runtime/config.js';
import { detectorNames } from '../../operators/parallel-detect/index.js';
import { parseShadowDetectors, SHADOW_SYNTAX } from './shadow-path.js';

// The sketch runs on every record before the sampler (MODEL_MONITOR_SKETCH); its point-detector form
// is for series (NAB), not for the sampled records, where its name would be taken for the sketch's.
const SAMPLED_DETECTORS = detectorNames.filter((name) => name !== 'sketch-cusum');

const int = (min: number, max: number): z.ZodType<number> => z.coerce.number().int(`expected a whole number`).min(min).max(max);
const number = (min: number, max: number): z.ZodType<number> => z.coerce.number().min(min).max(max);
const flag = z.enum(['true', 'false']).transform((v) => v === 'true');

/** Variable → schema, default (as the variable's text) and help. */
export const MODEL_MONITOR_SETTINGS = {
  registryUrl: {
    env: 'MODEL_REGISTRY_URL',
    schema: z.url({ error: 'expected a URL, e.g. http://127.0.0.1:8080' }),
    default: undefined,
    optional: true,
    help: "the model registry's base URL; unset: enrichment is off (owner unknown, the detectors' own levels), said once at start",
  },
  sampling: { env: 'MODEL_MONITOR_SAMPLING', schema: z.enum(['bandit', 'uniform', 'stratified', 'adaptive']), default: 'bandit', help: 'sampling: a bandit over uniform, stratified and adaptive, or one strategy alone' },
  sampleFraction: { env: 'MODEL_MONITOR_SAMPLE_FRACTION', schema: number(1e-6, 1), default: '0.1', help: 'share of the input that goes down the signal path, (0, 1]' },
  epochMs: { env: 'MODEL_MONITOR_EPOCH_MS', schema: int(1000, 86_400_000), default: '10000', help: 'event-time epoch of the sampling budget (and of the bandit), ms' },
  banditPolicy: { env: 'MODEL_MONITOR_BANDIT_POLICY', schema: z.enum(['thompson', 'ucb1']), default: 'thompson', help: 'bandit policy' },
  banditDiscount: {
    env: 'MODEL_MONITOR_BANDIT_DISCOUNT',
    schema: number(0.01, 1),
    default: '0.95',
    help: "weight the bandit's past evidence keeps per epoch, (0, 1] (1: never forgets); at a 1% budget an epoch is a few records per arm, so a short memory leaves the arms' yields indistinguishable",
  },
  enrichMode: { env: 'MODEL_MONITOR_ENRICH_MODE', schema: z.enum(['async', 'batched']), default: 'async', help: 'enrichment: async with an LRU cache, or batched (the baseline)' },
  enrichConcurrency: { env: 'MODEL_MONITOR_ENRICH_CONCURRENCY', schema: int(1, 4096), default: '16', help: 'registry lookups under way at once' },
  enrichCacheEntries: { env: 'MODEL_MONITOR_ENRICH_CACHE_ENTRIES', schema: int(0, 10_000_000), default: '10000', help: 'LRU cache entries (0: no cache)' },
  enrichTtlMs: { env: 'MODEL_MONITOR_ENRICH_TTL_MS', schema: int(0, 1e9), default: '60000', help: 'how long registry metadata is fresh, ms' },
  enrichTimeoutMs: { env: 'MODEL_MONITOR_ENRICH_TIMEOUT_MS', schema: int(1, 1e7), default: '1000', help: 'time limit of one registry call, ms' },
  enrichBreakerFailures: { env: 'MODEL_MONITOR_ENRICH_BREAKER_FAILURES', schema: int(0, 1_000_000), default: '5', help: 'registry lookups failing in a row that open the circuit breaker (records are then flagged at once); 0 = no breaker' },
  enrichBreakerOpenMs: { env: 'MODEL_MONITOR_ENRICH_BREAKER_OPEN_MS', schema: int(1, 1e9), default: '5000', help: 'how long the open circuit waits before a trial registry lookup, ms' },
  lanes: { env: 'MODEL_MONITOR_LANES', schema: int(1, 1024), default: '4', help: 'keyed-partition lanes' },
  routing: { env: 'MODEL_MONITOR_ROUTING', schema: z.enum(['consistent', 'static']), default: 'consistent', help: 'key → lane: consistent hashing with virtual nodes, or hash mod N' },
  stealing: { env: 'MODEL_MONITOR_STEALING', schema: flag, default: 'true', help: 'an idle lane steals a key queue from the busiest (true/false)' },
  laneKey: {
    env: 'MODEL_MONITOR_LANE_KEY',
    schema: z.enum(['model', 'model-segment']),
    default: 'model-segment',
    help: "what keeps a lane: 'model' (every record of a model in order, one hot model loads one lane) or 'model-segment' (order per model × segment, all the detectors need)",
  },
  boundedLoadEpsilon: {
    env: 'MODEL_MONITOR_BOUNDED_LOAD_EPSILON',
    schema: number(0, 10),
    // Small: model-monitor's lanes keep no state of their own, so a key gains nothing by returning to
    // the same lane; a topology whose lanes cache per key would rather keep keys home (ε ≈ 0.25).
    default: '0.02',
    help: 'consistent routing with bounded loads: a key that becomes active goes to the first lane on its ring walk whose recent load (records finished lately, decayed, plus what it holds) is below (1+ε) × the mean; 0 = the plain ring',
  },
  sketch: {
    env: 'MODEL_MONITOR_SKETCH',
    schema: z.enum(['on', 'off']).transform((v) => v === 'on'),
    default: 'on',
    help: "the change sketch before the sampler: a robust baseline and a two-sided CUSUM per model × segment × field on every record; its alarms are findings (detector sketch-cusum) whatever the budget, and its suspicion drives the adaptive sampling arm (on/off)",
  },
  falseAlarmsPerHour: {
    env: 'MODEL_MONITOR_FALSE_ALARMS_PER_HOUR',
    schema: number(1e-6, 1e6),
    default: '1',
    help: "the sketch's budget of false alarm episodes per hour of event time over the whole topology; its CUSUM level follows (docs/detection.md)",
  },
  sketchEvidencePerWindow: {
    env: 'MODEL_MONITOR_SKETCH_EVIDENCE_PER_WINDOW',
    schema: int(1, 1_000_000),
    default: '5',
    help: 'alarmed records per model × segment × field × direction and dedup window that pass the sampler outside the budget as evidence of a sketch alarm (the rest are counted and sampled as usual)',
  },
  sketchRelative: {
    env: 'MODEL_MONITOR_SKETCH_RELATIVE',
    schema: z.enum(['on', 'off']).transform((v) => v === 'on'),
    default: 'on',
    help: "the sketch reads a slow, minor model × segment against its model's common level: a robust median over the model's other segments (at least 3) of their level less their usual offset, so a cycle or drift common to the model moves the reference at the pace of the model's traffic and one segment's own incident does not (on/off)",
  },
  sketchPeerWindowMs: {
    env: 'MODEL_MONITOR_SKETCH_PEER_WINDOW_MS',
    schema: int(0, 86_400_000),
    default: '60000',
    help: "the sketch's peer check, ms of event time: an alarm on a model × segment whose shift (same field, same direction) most of the model's other segments show over this window is a model-wide shift, counted once as common and not mentioned per segment; 0: no peer check (docs/detection.md)",
  },
  sketchMinEpisodeMs: {
    env: 'MODEL_MONITOR_SKETCH_MIN_EPISODE_MS',
    schema: int(0, 86_400_000),
    default: '60000',
    help: "a sketch alarm becomes evidence once its shift has lasted this long, ms of event time from the change point the CUSUM estimates (one dedup window by default: a shift that does not outlast a mention's window is a transient); 0: at once",
  },
  sketchMaxKeys: { env: 'MODEL_MONITOR_SKETCH_MAX_KEYS', schema: int(1, 10_000_000), default: '100000', help: 'model × segment keys (and models) the sketch tracks; the least recently seen is evicted (counted)' },
  detectors: {
    env: 'MODEL_MONITOR_DETECTORS',
    schema: z
      .string()
      .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
      .pipe(z.union([z.tuple([z.literal('none')]).transform((): string[] => []), z.array(z.enum(SAMPLED_DETECTORS as [string, ...string[]])).min(1)])),
    // none: with the sketch on, ewma-zscore and cusum on the sampled records only added false alarms
    // on the tuning seed (seed 1001, 200k events: 53 % per-mention precision at a 10 % budget with them,
    // 70 % without, same recall); they stay available as context.
    default: 'none',
    help: `detectors per model × segment × field on the sampled records, comma-separated (${SAMPLED_DETECTORS.join(', ')}), or none (the sketch alone decides)`,
  },
  shadowDetectors: {
    env: 'MODEL_MONITOR_SHADOW_DETECTORS',
    schema: z.string().transform((v, context) => {
      try {
        return parseShadowDetectors(v);
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
    default: 'none',
    help: `detectors in shadow mode on the same records as the live path: their mentions (shadow: true) go to mentions.shadow only, to be judged against labels (signalpath shadow-report, docs/feedback.md); ${SHADOW_SYNTAX}`,
  },
  fields: {
    env: 'MODEL_MONITOR_FIELDS',
    schema: z.string().transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean)).pipe(z.array(z.string().regex(/^(latency_ms|confidence|prediction|input_tokens|output_tokens|features\[\d+\])$/, 'expected latency_ms, confidence, prediction, input_tokens, output_tokens or features[i]')).min(1)),
    default: 'latency_ms,confidence,prediction,output_tokens,features[0],features[1],features[2],features[3]',
    help: 'event fields watched',
  },
  thresholdTuning: {
    env: 'MODEL_MONITOR_THRESHOLD_TUNING',
    schema: z.enum(['precision', 'f-beta']),
    default: 'f-beta',
    help: "detector thresholds: 'precision' (tuned for few false positives) or 'f-beta' (tuned for F2, recall weighs twice precision)",
  },
  segmentWarmupPoints: { env: 'MODEL_MONITOR_SEGMENT_WARMUP_POINTS', schema: int(1, 1_000_000), default: '60', help: "sampled records a model × segment needs before its own detectors score it; until then it is scored against its model's baseline" },
  detectConcurrency: { env: 'MODEL_MONITOR_DETECT_CONCURRENCY', schema: int(1, 4096), default: '8', help: 'records under detection at once' },
  dedupMode: { env: 'MODEL_MONITOR_DEDUP_MODE', schema: z.enum(['cluster-aware', 'strict']), default: 'cluster-aware', help: 'mention clustering: model × segment × field × direction, or one per model' },
  dedupWindowMs: { env: 'MODEL_MONITOR_DEDUP_WINDOW_MS', schema: int(1000, 86_400_000), default: '60000', help: 'event-time tumbling window of a mention, ms' },
  minEvents: { env: 'MODEL_MONITOR_MIN_EVENTS', schema: int(1, 1_000_000), default: '2', help: 'distinct anomalous events a mention needs over its evidence windows (1: every outlier can be a mention)' },
  evidenceAlpha: { env: 'MODEL_MONITOR_EVIDENCE_ALPHA', schema: number(1e-12, 1), default: '0.001', help: "a mention is kept when its count of anomalous events has less than this chance under its model × segment's background rate of outliers, (0, 1] (1: off)" },
  evidenceWindows: { env: 'MODEL_MONITOR_EVIDENCE_WINDOWS', schema: int(1, 64), default: '5', help: "dedup windows (the mention's and those before it) whose anomalous events count together as its evidence" },
  reviewShare: { env: 'MODEL_MONITOR_REVIEW_SHARE', schema: number(0, 1), default: '0.07', help: 'share of mentions also sent to the fast lane (mentions.review)' },
  reviewBatchMs: { env: 'MODEL_MONITOR_REVIEW_BATCH_MS', schema: int(1, 60_000), default: '100', help: 'how long the fast lane gathers mentions before choosing, ms' },
  labelsTopic: {
    env: 'MODEL_MONITOR_LABELS_TOPIC',
    schema: z.string().trim().regex(/^([A-Za-z0-9._-]{1,249})?$/, "expected a topic name (letters, digits, '.', '_', '-') or empty"),
    default: 'labels',
    help: 'topic of Label records followed for the feedback KPIs (precision, recall at precision, feedback latency) and the recalibration of the levels (needs SIGNALPATH_TELEMETRY on); empty: none',
  },
  recalibrate: {
    env: 'MODEL_MONITOR_RECALIBRATE',
    schema: z.enum(['on', 'off']).transform((v) => v === 'on'),
    default: 'on',
    help: "labels move the sketch's levels (docs/feedback.md): a false positive while the labelled precision is below its target raises its field's level, a true positive while it is above lowers it toward the floor; off: labels are joined and counted, the levels stay (on/off)",
  },
  targetPrecision: { env: 'MODEL_MONITOR_TARGET_PRECISION', schema: number(0.5, 0.999), default: '0.95', help: 'the labelled precision the recalibration aims for, [0.5, 0.999]; also the mean of its prior' },
  recalibrationPriorLabels: { env: 'MODEL_MONITOR_RECALIBRATION_PRIOR_LABELS', schema: number(0.1, 10_000), default: '10', help: 'weight, in labels, of the prior that the budget-derived level meets the target precision' },
  recalibrationMemoryLabels: { env: 'MODEL_MONITOR_RECALIBRATION_MEMORY_LABELS', schema: number(1, 1_000_000), default: '50', help: "labels after which an old label's weight in the precision estimate has fallen to 1/e (labels given at other levels fade)" },
  recalibrationRaise: { env: 'MODEL_MONITOR_RECALIBRATION_RAISE', schema: number(1.001, 10), default: '1.1', help: "factor a false positive multiplies its level by, when the estimated precision is below the target, > 1" },
  recalibrationLower: { env: 'MODEL_MONITOR_RECALIBRATION_LOWER', schema: number(1.001, 10), default: '1.05', help: 'factor a true positive divides its level by, when the estimated precision meets the target, > 1 (never below the floor)' },
  recalibrationModelLabels: { env: 'MODEL_MONITOR_RECALIBRATION_MODEL_LABELS', schema: int(1, 1_000_000), default: '20', help: "labels a model × field needs before its own level factor replaces its field's" },
  levelFloor: { env: 'MODEL_MONITOR_LEVEL_FLOOR', schema: number(0.1, 10), default: '1', help: "lowest factor on the sketch's budget-derived level that a lowering reaches (1: never more false alarms than the budget allows)" },
  levelCeiling: { env: 'MODEL_MONITOR_LEVEL_CEILING', schema: number(1, 100), default: '3', help: "highest factor on the sketch's budget-derived level that a raise reaches, ≥ the floor" },
  levelScale: { env: 'MODEL_MONITOR_LEVEL_SCALE', schema: number(0.1, 100), default: '1', help: "factor every level starts at (1: the budget's; an experiment starts miscalibrated at 0.5 or 2)" },
  labelJoinMaxAwaiting: { env: 'MODEL_MONITOR_LABEL_JOIN_MAX_AWAITING', schema: int(1, 10_000_000), default: '50000', help: 'mentions remembered while they wait for a label (the oldest beyond it are dropped, counted); as many applied mention ids are remembered for idempotence' },
  seed: { env: 'MODEL_MONITOR_SEED', schema: int(-(2 ** 31), 2 ** 31 - 1), default: '1', help: 'seed of the samplers and the bandit' },
} as const;

type Settings = typeof MODEL_MONITOR_SETTINGS;
/** Settings that may stay unset (then undefined). */
type OptionalSetting = { [K in keyof Settings]: Settings[K] extends { readonly optional: true } ? K : never }[keyof Settings];
export type ModelMonitorConfig = { -readonly [K in Exclude<keyof Settings, OptionalSetting>]: z.output<Settings[K]['schema']> } & {
  -readonly [K in OptionalSetting]: z.output<Settings[K]['schema']> | undefined;
};

/** Reads and checks every setting from `env`; `overrides` (tests, the lab) win over the environment. */
export function readModelMonitorConfig(env: NodeJS.ProcessEnv, overrides: Partial<ModelMonitorConfig> = {}): ModelMonitorConfig {
  const config: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(MODEL_MONITOR_SETTINGS) as [keyof Settings, Settings[keyof Settings]][]) {
    if (overrides[name] !== undefined) {
      config[name] = overrides[name];
      continue;
    }
    const raw = env[setting.env] ?? setting.default;
    if (raw === undefined) {
      if ('optional' in setting && setting.optional) continue;
      throw new ConfigError(`${setting.env} is not set: ${setting.help}`);
    }
    const parsed = (setting.schema as z.ZodType).safeParse(raw);
    if (!parsed.success) {
      const reason = parsed.error.issues.map((issue) => issue.message).join('; ');
      throw new ConfigError(`invalid ${setting.env}=${JSON.stringify(raw)}: ${reason} (${setting.help})`);
    }
    config[name] = parsed.data;
  }
  if ((config['levelFloor'] as number) > (config['levelCeiling'] as number)) {
    throw new ConfigError(`MODEL_MONITOR_LEVEL_FLOOR (${String(config['levelFloor'])}) must not be above MODEL_MONITOR_LEVEL_CEILING (${String(config['levelCeiling'])})`);
  }
  return config as ModelMonitorConfig;
}
