/**
 * Stream profiles: streams of other shapes than the lab's default, so that a detector tuned on one
 * stream is also measured on streams it was never tuned on. A profile fixes the shape (how many
 * models and how hot, how many segments, what the model ids look like, which noise that is not an
 * incident, how subtle and how long the incidents are); count, seed and the options the caller sets
 * explicitly still apply on top.
 *
 * | profile     | models (traffic)        | segments (rare) | model ids                      | noise besides the default heavy tails                      | incidents (size, length)          |
 * |-------------|-------------------------|-----------------|--------------------------------|-------------------------------------------------------------|-----------------------------------|
 * | `default`   | 50, Zipf 1.1            | 5 (2)           | `model-000`…                   | —                                                           | 3–9 σ (by kind), 5–12 % of span   |
 * | `few-hot`   | 6, Zipf 1.6 (very hot)  | 4 (1)           | `fraud.scorer-v3`, `support/chat-llm`… | —                                                   | 1–4 σ, 5 min – 2 h                |
 * | `many-flat` | 80, Zipf 0.3 (flat)     | 12 (4)          | `checkout/llm-017`…            | —                                                           | 1.5–8 σ, 5 min – 2 h              |
 * | `noisy`     | 24, Zipf 1.1            | 6 (2)           | `payments-fraud_v2`…           | slow-request bursts over a whole model, model outages, stream-wide gaps, a strong 3 h cycle of rate and latency | 1–6 σ, 5 min – 2 h |
 *
 * The `default` profile is the generator without a profile, event for event.
 *
 * σ is the noise of the field in normal traffic: log-latency 0.25, confidence 0.04, prediction logit
 * 1, a feature 1, log output tokens 0.4 (stream.ts). Nothing here looks at what any detector does.
 */

export const PROFILE_NAMES = ['default', 'few-hot', 'many-flat', 'noisy'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

/** Non-incident noise of the `noisy` profile; each is recorded in the ground truth as `noise`. */
export interface NoiseShape {
  /** Bursts of slow requests across every segment of one model: per model per hour of event time. */
  readonly slowBurstsPerModelHour: number;
  /** Burst length, ms: [min, max], log-uniform. */
  readonly slowBurstMs: readonly [number, number];
  /** Latency factor of a burst's slow requests: [min, max]. */
  readonly slowBurstFactor: readonly [number, number];
  /** Share of the model's requests a burst slows: [min, max]. */
  readonly slowBurstShare: readonly [number, number];
  /** Outages of one model (no traffic from it): per model per hour of event time. */
  readonly outagesPerModelHour: number;
  /** Outage length, ms: [min, max], log-uniform. */
  readonly outageMs: readonly [number, number];
  /** Gaps in the whole stream (no traffic at all) per million events. */
  readonly gapsPerMillionEvents: number;
  /** Gap length, ms: [min, max], uniform. */
  readonly gapMs: readonly [number, number];
}

/** The shape a profile gives the generator; the default profile's is the generator's own defaults. */
export interface StreamShape {
  readonly name: ProfileName;
  /** What the profile exercises, in a sentence (docs, reports). */
  readonly exercises: string;
  readonly models: number;
  readonly zipfExponent: number;
  readonly eventsPerSecond: number;
  readonly dayMs: number;
  readonly dailyAmplitude: number;
  /** Latency's swing with the daily load: latency × (1 + swing × load), load in [−1, 1]. */
  readonly latencyDailySwing: number;
  readonly segments: readonly string[];
  /** Rare segments per model, and the share of its traffic each gets: base + spread × u. */
  readonly rareSegments: number;
  readonly rareShareBase: number;
  readonly rareShareSpread: number;
  readonly rareIncidentShare: number;
  /** The id of model `i` (0-based), unique per i. */
  readonly modelId: (i: number) => string;
  /**
   * Incidents: undefined for the default (kinds at random, sizes by kind, lengths a share of the
   * span); otherwise sizes in σ of the field's normal noise, log-uniform in `severitySigma`, lengths
   * log-uniform in `lengthMs` (at most 40 % of the span), kinds in turn so every kind occurs.
   */
  readonly incidents?: { readonly severitySigma: readonly [number, number]; readonly lengthMs: readonly [number, number] };
  readonly noise?: NoiseShape;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const FEW_HOT_IDS = ['fraud.scorer-v3', 'support/chat-llm', 'search.ranker-v12', 'ads.ctr-v7', 'vision.ocr-v2', 'risk.limits-v1'];
const TEAMS = ['checkout', 'search', 'support', 'risk', 'growth', 'ads'];
const KINDS = ['llm', 'ranker', 'classifier', 'embedder'];
const NOISY_TEAMS = ['payments', 'identity', 'catalog', 'pricing'];
const NOISY_KINDS = ['fraud', 'match', 'tagger', 'forecast', 'rerank', 'moderation'];

const DEFAULT_SHAPE: StreamShape = {
  name: 'default',
  exercises: 'the lab\'s own stream: Zipf traffic over 50 models, 5 segments (2 rare), heavy-tailed single-point noise, incidents of 3–9 σ lasting 5–12 % of the span',
  models: 50,
  zipfExponent: 1.1,
  eventsPerSecond: 100,
  dayMs: 86_400_000,
  dailyAmplitude: 0.5,
  latencyDailySwing: 0.15,
  segments: ['consumer', 'enterprise', 'smb', 'public-sector', 'research'],
  rareSegments: 2,
  rareShareBase: 0.005,
  rareShareSpread: 0.015,
  rareIncidentShare: 0.7,
  modelId: (i) => `model-${String(i).padStart(3, '0')}`,
};

const SHAPES: Readonly<Record<ProfileName, StreamShape>> = {
  default: DEFAULT_SHAPE,
  'few-hot': {
    ...DEFAULT_SHAPE,
    name: 'few-hot',
    exercises: 'few very hot models (one takes most of the traffic), 4 segments: subtle (1–4 σ) incidents on keys with plenty of records, long and short; ids with dots and slashes the registry does not know',
    models: 6,
    zipfExponent: 1.6,
    eventsPerSecond: 25,
    segments: ['web', 'mobile', 'partner-api', 'internal'],
    rareSegments: 1,
    rareIncidentShare: 0.5,
    modelId: (i) => (i < FEW_HOT_IDS.length ? FEW_HOT_IDS[i]! : `model.extra-${i}`),
    incidents: { severitySigma: [1, 4], lengthMs: [5 * MINUTE, 2 * HOUR] },
  },
  'many-flat': {
    ...DEFAULT_SHAPE,
    name: 'many-flat',
    exercises: 'many models with flat traffic, 12 segments (4 rare, 0.5–2 %): about a thousand cold keys with few records each, 1.5–8 σ incidents; ids like checkout/llm-017 the registry does not know',
    models: 80,
    zipfExponent: 0.3,
    eventsPerSecond: 25,
    segments: ['us-east', 'us-west', 'eu-central', 'eu-west', 'ap-south', 'ap-northeast', 'ap-east', 'sa-east', 'af-south', 'me-central', 'ca-central', 'oc-southeast'],
    rareSegments: 4,
    rareIncidentShare: 0.5,
    modelId: (i) => `${TEAMS[i % TEAMS.length]!}/${KINDS[Math.floor(i / TEAMS.length) % KINDS.length]!}-${String(i).padStart(3, '0')}`,
    incidents: { severitySigma: [1.5, 8], lengthMs: [5 * MINUTE, 2 * HOUR] },
  },
  noisy: {
    ...DEFAULT_SHAPE,
    name: 'noisy',
    exercises: 'noise that is not an incident: bursts of slow requests across a whole model (30 s – 4 min), model outages (1–10 min), stream-wide gaps (2–8 min), a strong 3 h cycle of rate (±80 %) and latency (±50 %); 1–6 σ incidents',
    models: 24,
    eventsPerSecond: 25,
    dayMs: 3 * HOUR,
    dailyAmplitude: 0.8,
    latencyDailySwing: 0.5,
    segments: ['free', 'pro', 'team', 'enterprise', 'edu', 'gov'],
    rareIncidentShare: 0.6,
    modelId: (i) => `${NOISY_TEAMS[i % NOISY_TEAMS.length]!}-${NOISY_KINDS[Math.floor(i / NOISY_TEAMS.length) % NOISY_KINDS.length]!}_v${1 + Math.floor(i / 24)}`,
    incidents: { severitySigma: [1, 6], lengthMs: [5 * MINUTE, 2 * HOUR] },
    noise: {
      slowBurstsPerModelHour: 0.5,
      slowBurstMs: [30_000, 4 * MINUTE],
      slowBurstFactor: [1.8, 4],
      slowBurstShare: [0.4, 1],
      outagesPerModelHour: 0.3,
      outageMs: [MINUTE, 10 * MINUTE],
      gapsPerMillionEvents: 4,
      gapMs: [2 * MINUTE, 8 * MINUTE],
    },
  },
};

/** The shape of profile `name`; throws naming the profiles when it is not one. */
export function streamShape(name: string): StreamShape {
  if (!(PROFILE_NAMES as readonly string[]).includes(name)) throw new RangeError(`generator: option 'profile' must be one of ${PROFILE_NAMES.join(', ')}, got ${JSON.stringify(name)}`);
  return SHAPES[name as ProfileName];
}
