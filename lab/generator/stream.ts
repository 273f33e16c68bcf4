/**
 * The lab's generator: a seeded, reproducible stream of InferenceEvents with ground truth.
 *
 * - Models with Zipf-distributed traffic (a few hot keys); each model has five segments with skewed
 *   shares, two of them rare (0.5–2 % of the model's traffic each).
 * - A daily pattern: the event rate and, mildly, latency follow the time of day.
 * - Heavy-tailed noise that is *not* an incident: occasional latency spikes (Pareto), confidence dips,
 *   long outputs and outlying features, in every segment, all the time.
 * - Incidents of six kinds ({@link IncidentKind}), 70 % of them in rare segments, on models with
 *   models chosen in proportion to their traffic; each is a stretch of event time of one model × segment × field.
 * - Order: event-time order per model (the Kafka key); across models, bounded disorder — each model's
 *   events reach the topic up to `maxDisorderMs` of event time late, a fixed lag per model.
 *
 * `profile` chooses another shape (profiles.ts): few hot models or many flat ones, 4 or 12 segments,
 * model ids the lab registry does not know, noise of other kinds (slow-request bursts over a whole
 * model, outages, gaps, a strong cycle), incidents from 1 σ to gross lasting 5 min to 2 h. Without a
 * profile (or with `default`) the stream is exactly what it was before profiles existed.
 *
 * The same options give the same events, byte for byte, and the same ground truth. Nothing here looks
 * at what any detector does: the generator is not tuned to the result.
 */
import type { InferenceEvent } from '../../schemas/index.js';
import { SeededRandom } from '../../core/random.js';
import { modelMetadata } from '../model-registry/metadata.js';
import { applyIncident, drawEffect, drawEffectInSigma, INCIDENT_KINDS, type GroundTruthIncident, type MutableSignals } from './incidents.js';
import { cumulative, pick } from './draws.js';
import { streamShape, type ProfileName } from './profiles.js';

export interface StreamOptions {
  /** Events to generate, integer ≥ 0. Required. */
  readonly count: number;
  /** Seed, integer. Default 1. */
  readonly seed?: number;
  /**
   * Shape of the stream (profiles.ts): `default`, `few-hot`, `many-flat` or `noisy`. Default `default`.
   * The options below default to the profile's values where it has one (models, Zipf exponent, event
   * rate, day, daily amplitude, rare incident share); an option set here overrides the profile.
   */
  readonly profile?: ProfileName;
  /** Models, [1, 100 000]. Default 50. */
  readonly models?: number;
  /** Zipf exponent of traffic over models, > 0. Default 1.1. */
  readonly zipfExponent?: number;
  /** Event time of the first event, epoch ms. Default 2026-01-01T00:00:00Z. */
  readonly startMs?: number;
  /** Mean events per second of event time, > 0. Default 100. */
  readonly eventsPerSecond?: number;
  /** Length of the daily cycle, ms. Default 86 400 000. */
  readonly dayMs?: number;
  /** Peak-to-mean swing of the daily rate, [0, 0.9]. Default 0.5. */
  readonly dailyAmplitude?: number;
  /** Incidents to inject. Default max(3, round(count / 20 000)). */
  readonly incidents?: number;
  /** Share of incidents in rare segments, [0, 1]. Default 0.7. */
  readonly rareIncidentShare?: number;
  /** Incident length as a share of the stream's event-time span: [min, max]. Default [0.05, 0.12], clamped to 2 min – 60 min. */
  readonly incidentSpan?: readonly [number, number];
  /** Features per event. Default 4. */
  readonly features?: number;
  /** Largest lag of one model's events behind event-time order, ms. Default 2000. */
  readonly maxDisorderMs?: number;
  /** Window of the traffic-cell count in the ground truth (for false-positive rates), ms. Default 60 000. */
  readonly cellWindowMs?: number;
}

/** What the ground-truth file holds besides the incidents. */
export interface GroundTruthRun {
  readonly seed: number;
  readonly events: number;
  readonly models: number;
  readonly start_ms: number;
  readonly end_ms: number;
  readonly events_per_second: number;
  /** Distinct (model, segment, window of `cell_window_ms`) with traffic: the negatives a detector could flag. */
  readonly cell_window_ms: number;
  readonly traffic_cells: number;
  /** Fields the incidents can touch. */
  readonly fields: readonly string[];
  /** The stream profile, when not the default (absent on the default stream: its truth is unchanged). */
  readonly profile?: ProfileName;
}

/**
 * Noise of a profile that is not an incident (profiles.ts), in the ground truth so that a false alarm
 * can be traced to it: a burst of slow requests over every segment of a model, an outage of one model,
 * or a gap in the whole stream (no `model_id`).
 */
export interface NoiseEpisode {
  readonly kind: 'slow-burst' | 'model-outage' | 'stream-gap';
  readonly model_id?: string;
  /** Event time, epoch ms: start inclusive, end exclusive. */
  readonly start: number;
  readonly end: number;
  /** Slow bursts: the latency factor, and the share of the model's requests it slows. */
  readonly factor?: number;
  readonly share?: number;
}

/** An incident with what the stream did: how many events it changed, and their event times. */
export interface GroundTruthIncidentResult extends GroundTruthIncident {
  readonly affected_events: number;
  readonly affected_ts: readonly number[];
}

export interface GeneratedStream {
  /** Iterate once (or again: each iteration regenerates the same events). */
  readonly events: Iterable<InferenceEvent>;
  /** Planned incidents (known before the events are generated). */
  readonly incidents: readonly GroundTruthIncident[];
  /** Event time of the first event, and the span of event time the events cover, ms (known before). */
  readonly startMs: number;
  readonly spanMs: number;
  /** The ground truth of the last complete iteration (`noise` only on a profile that has some). */
  truth(): { run: GroundTruthRun; incidents: GroundTruthIncidentResult[]; noise?: NoiseEpisode[] };
}

/** The default profile's segments. */
export const SEGMENT_NAMES = ['consumer', 'enterprise', 'smb', 'public-sector', 'research'] as const;

interface ModelProfile {
  readonly id: string;
  readonly version: string;
  readonly segmentCdf: number[];
  readonly rareSegments: string[];
  readonly latencyMs: number;
  readonly segmentLatency: number[];
  readonly segmentConfidence: number[];
  readonly predictionLogit: number;
  readonly featureMeans: number[];
}

function check(name: string, value: number, min: number, max: number, integer = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new RangeError(`generator: option '${name}' must be ${integer ? 'an integer ' : ''}in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

export function generateStream(options: StreamOptions): GeneratedStream {
  const shape = streamShape(options.profile ?? 'default');
  const segmentNames = shape.segments;
  const count = check('count', options.count, 0, 1e10, true);
  const seed = check('seed', options.seed ?? 1, -(2 ** 31), 2 ** 31 - 1, true);
  const modelCount = check('models', options.models ?? shape.models, 1, 100_000, true);
  const zipfExponent = check('zipfExponent', options.zipfExponent ?? shape.zipfExponent, 0.01, 10);
  const startMs = check('startMs', options.startMs ?? Date.UTC(2026, 0, 1), 0, 1e14, true);
  const eventsPerSecond = check('eventsPerSecond', options.eventsPerSecond ?? shape.eventsPerSecond, 1e-3, 1e7);
  const dayMs = check('dayMs', options.dayMs ?? shape.dayMs, 1000, 1e12);
  const dailyAmplitude = check('dailyAmplitude', options.dailyAmplitude ?? shape.dailyAmplitude, 0, 0.9);
  const incidentCount = check('incidents', options.incidents ?? Math.max(3, Math.round(count / 20_000)), 0, 1e6, true);
  const rareShare = check('rareIncidentShare', options.rareIncidentShare ?? shape.rareIncidentShare, 0, 1);
  const [spanMin, spanMax] = options.incidentSpan ?? [0.05, 0.12];
  check('incidentSpan[0]', spanMin, 0, 1);
  check('incidentSpan[1]', spanMax, spanMin, 1);
  const featureCount = check('features', options.features ?? 4, 1, 1024, true);
  const maxDisorderMs = check('maxDisorderMs', options.maxDisorderMs ?? 2000, 0, 3_600_000, true);
  const cellWindowMs = check('cellWindowMs', options.cellWindowMs ?? 60_000, 1, 1e12, true);

  const setup = SeededRandom.fromSeed(seed);
  // Draws only a profile makes come from their own generator, so the default stream's draws are untouched.
  // A profile salts its seeds, so that two profiles on one seed do not share incident lengths or sizes.
  const salt = shape.name === 'default' ? 0 : [...shape.name].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 0x01000193), 0x811c9dc5) & 0x7fffffff;
  const profileRandom = SeededRandom.fromSeed(seed ^ 0x0f11e5 ^ salt);
  const logUniform = (r: SeededRandom, [low, high]: readonly [number, number]): number => low * Math.pow(high / low, r.nextFloat());
  const gaussianOf = (r: SeededRandom): number => r.nextGaussian();
  const models: ModelProfile[] = Array.from({ length: modelCount }, (_, i) => {
    const id = shape.modelId(i);
    // Rare segments per model (default two, 0.5–2 % each); the rest share what is left, unevenly.
    const order = [...segmentNames.keys()].map((k) => ({ k, u: setup.nextFloat() })).sort((a, b) => a.u - b.u).map((x) => x.k);
    const shares = new Array<number>(segmentNames.length).fill(0);
    const rare = order.slice(0, shape.rareSegments);
    let left = 1;
    for (const k of rare) {
      shares[k] = shape.rareShareBase + shape.rareShareSpread * setup.nextFloat();
      left -= shares[k];
    }
    const common = order.slice(2);
    const weights = common.map(() => 0.3 + setup.nextFloat());
    const total = weights.reduce((a, b) => a + b, 0);
    common.forEach((k, j) => (shares[k] = (left * weights[j]!) / total));
    return {
      id,
      version: `v${1 + Math.floor(setup.nextFloat() * 3)}`,
      segmentCdf: cumulative(shares),
      rareSegments: rare.map((k) => segmentNames[k]!),
      // The default stream's models are the registry's; a profile's are unknown to it and get their own.
      latencyMs: shape.name === 'default' ? (modelMetadata(id, { models: Number.MAX_SAFE_INTEGER })?.expected_latency_ms ?? 100) : logUniform(profileRandom, [30, 400]),
      segmentLatency: segmentNames.map(() => 0.8 + 0.5 * setup.nextFloat()),
      segmentConfidence: segmentNames.map(() => 0.78 + 0.12 * setup.nextFloat()),
      predictionLogit: gaussianOf(setup) * 0.7,
      featureMeans: Array.from({ length: featureCount }, () => gaussianOf(setup) * 0.5),
    };
  });
  const modelCdf = cumulative(models.map((_, rank) => 1 / Math.pow(rank + 1, zipfExponent)));
  const lagMs = models.map(() => Math.floor(setup.nextFloat() * (maxDisorderMs + 1)));

  // Event time advances by 1/rate(t), so the span depends on where in the day the stream falls:
  // walk the clock once (cheap) to know it before placing incidents.
  const stepMs = (t: number): number => 1000 / (eventsPerSecond * (1 + dailyAmplitude * Math.sin((2 * Math.PI * (t - startMs)) / dayMs - Math.PI / 2)));
  const noise = shape.noise;
  // Stream-wide gaps (noisy profile): after event `at`, event time jumps by `ms`.
  const gaps = new Map<number, number>();
  if (noise !== undefined && count > 0) {
    const n = Math.round((noise.gapsPerMillionEvents * count) / 1e6);
    for (let g = 0; g < n; g++) gaps.set(Math.floor(count * (0.15 + 0.8 * profileRandom.nextFloat())), Math.round(noise.gapMs[0] + (noise.gapMs[1] - noise.gapMs[0]) * profileRandom.nextFloat()));
  }
  const noiseEpisodes: NoiseEpisode[] = [];
  let spanMs = 0;
  for (let i = 0; i < count; i++) {
    spanMs += stepMs(startMs + spanMs);
    const gap = gaps.get(i);
    if (gap !== undefined) {
      noiseEpisodes.push({ kind: 'stream-gap', start: Math.floor(startMs + spanMs) + 1, end: Math.floor(startMs + spanMs + gap) });
      spanMs += gap;
    }
  }
  // Per-model slow bursts and outages (noisy profile), as Poisson processes over the span.
  const slowBursts = new Map<string, { start: number; end: number; factor: number; share: number }[]>();
  const outages = new Map<string, { start: number; end: number }[]>();
  if (noise !== undefined) {
    const arrivals = (perHour: number): number[] => {
      const times: number[] = [];
      if (perHour <= 0) return times;
      for (let t = startMs - (Math.log(profileRandom.nextOpenFloat()) / perHour) * 3_600_000; t < startMs + spanMs; t -= (Math.log(profileRandom.nextOpenFloat()) / perHour) * 3_600_000) times.push(Math.round(t));
      return times;
    };
    for (const model of models) {
      const bursts = arrivals(noise.slowBurstsPerModelHour).map((start) => ({
        start,
        end: start + Math.round(logUniform(profileRandom, noise.slowBurstMs)),
        factor: noise.slowBurstFactor[0] + (noise.slowBurstFactor[1] - noise.slowBurstFactor[0]) * profileRandom.nextFloat(),
        share: noise.slowBurstShare[0] + (noise.slowBurstShare[1] - noise.slowBurstShare[0]) * profileRandom.nextFloat(),
      }));
      const down = arrivals(noise.outagesPerModelHour).map((start) => ({ start, end: start + Math.round(logUniform(profileRandom, noise.outageMs)) }));
      slowBursts.set(model.id, bursts);
      outages.set(model.id, down);
      for (const b of bursts) noiseEpisodes.push({ kind: 'slow-burst', model_id: model.id, ...b });
      for (const o of down) noiseEpisodes.push({ kind: 'model-outage', model_id: model.id, ...o });
    }
    noiseEpisodes.sort((a, b) => a.start - b.start || a.kind.localeCompare(b.kind));
  }
  const within = (list: readonly { start: number; end: number }[] | undefined, ts: number): { start: number; end: number } | undefined => list?.find((x) => ts >= x.start && ts < x.end);
  const incidentRandom = SeededRandom.fromSeed(seed ^ 0x5eed ^ salt);
  const kindOffset = Math.floor(profileRandom.nextFloat() * INCIDENT_KINDS.length);
  const profileIncidents = shape.incidents;
  const incidents: GroundTruthIncident[] = Array.from({ length: incidentCount }, (_, n) => {
    // Incidents follow traffic (Zipf): a hot model has more to go wrong and more users to notice it.
    const model = models[pick(modelCdf, incidentRandom.nextFloat())]!;
    const inRare = incidentRandom.nextFloat() < rareShare;
    const common = segmentNames.filter((s) => !model.rareSegments.includes(s));
    const segment = inRare ? model.rareSegments[Math.floor(incidentRandom.nextFloat() * model.rareSegments.length)]! : common[Math.floor(incidentRandom.nextFloat() * common.length)]!;
    if (profileIncidents !== undefined) {
      // A profile's incidents: every kind in turn, sizes in σ and lengths log-uniform (small and short ones are common).
      const kind = INCIDENT_KINDS[(kindOffset + n) % INCIDENT_KINDS.length]!;
      const lengthMs = Math.round(Math.min(0.4 * spanMs, logUniform(incidentRandom, profileIncidents.lengthMs)));
      const start = startMs + Math.round(spanMs * 0.1 + incidentRandom.nextFloat() * Math.max(0, spanMs * 0.85 - lengthMs));
      const severity = logUniform(incidentRandom, profileIncidents.severitySigma);
      return { id: `incident-${n}`, kind, model_id: model.id, segment, ...drawEffectInSigma(kind, severity, incidentRandom, featureCount), start, end: start + lengthMs };
    }
    const kind = INCIDENT_KINDS[Math.floor(incidentRandom.nextFloat() * INCIDENT_KINDS.length)]!;
    const lengthMs = Math.round(Math.min(60 * 60_000, Math.max(120_000, spanMs * (spanMin + (spanMax - spanMin) * incidentRandom.nextFloat()))));
    // Not in the first tenth: detectors need a baseline before anything can be called anomalous.
    const start = startMs + Math.round(spanMs * 0.1 + incidentRandom.nextFloat() * Math.max(0, spanMs * 0.85 - lengthMs));
    return { id: `incident-${n}`, kind, model_id: model.id, segment, ...drawEffect(kind, incidentRandom, featureCount), start, end: start + lengthMs };
  });
  const byCell = new Map<string, GroundTruthIncident[]>();
  for (const incident of incidents) {
    const key = `${incident.model_id}|${incident.segment}`;
    byCell.set(key, [...(byCell.get(key) ?? []), incident]);
  }

  let lastTruth: { run: GroundTruthRun; incidents: GroundTruthIncidentResult[]; noise?: NoiseEpisode[] } | undefined;

  function* events(): Generator<InferenceEvent> {
    const draw = SeededRandom.fromSeed(seed + 1);
    const noiseDraw = SeededRandom.fromSeed(seed ^ 0x4015e);
    const affected = new Map<string, number[]>(incidents.map((incident) => [incident.id, []]));
    const cells = new Set<string>();
    const pending = new MinHeap<{ arrival: number; seq: number; event: InferenceEvent }>((a, b) => a.arrival - b.arrival || a.seq - b.seq);
    let t = startMs;
    let lastTs = startMs;
    for (let i = 0; i < count; i++) {
      const load = Math.sin((2 * Math.PI * (t - startMs)) / dayMs - Math.PI / 2); // starts at the night-time low
      t += stepMs(t);
      const ts = Math.floor(t);
      lastTs = ts;
      t += gaps.get(i) ?? 0;
      let m = pick(modelCdf, draw.nextFloat());
      // A model in an outage sends nothing: the event goes to another model (bounded redraws).
      for (let redraw = 0; redraw < 100 && outages.size > 0 && within(outages.get(models[m]!.id), ts) !== undefined; redraw++) m = pick(modelCdf, noiseDraw.nextFloat());
      const model = models[m]!;
      const s = pick(model.segmentCdf, draw.nextFloat());
      const segment = segmentNames[s]!;
      cells.add(`${model.id}|${segment}|${Math.floor(ts / cellWindowMs)}`);
      // Normal behaviour with heavy-tailed noise that is not an incident.
      let latency = model.latencyMs * model.segmentLatency[s]! * (1 + shape.latencyDailySwing * load) * Math.exp(0.25 * gaussianOf(draw));
      if (draw.nextFloat() < 0.003) latency *= Math.min(50, Math.pow(draw.nextOpenFloat(), -1 / 1.5));
      if (slowBursts.size > 0) {
        const burst = within(slowBursts.get(model.id), ts) as { factor: number; share: number } | undefined;
        if (burst !== undefined && noiseDraw.nextFloat() < burst.share) latency *= burst.factor;
      }
      let confidence = model.segmentConfidence[s]! + 0.04 * gaussianOf(draw);
      if (draw.nextFloat() < 0.002) confidence -= 0.2 + 0.3 * draw.nextFloat();
      let outputTokens = 200 * Math.exp(0.4 * gaussianOf(draw));
      if (draw.nextFloat() < 0.002) outputTokens *= 3 + 5 * draw.nextFloat();
      const signals: MutableSignals = {
        latency_ms: latency,
        confidence,
        prediction: 1 / (1 + Math.exp(-(model.predictionLogit + gaussianOf(draw)))),
        output_tokens: outputTokens,
        features: model.featureMeans.map((mean) => mean + gaussianOf(draw) * (draw.nextFloat() < 0.003 ? 4 : 1)),
      };
      for (const incident of byCell.get(`${model.id}|${segment}`) ?? []) {
        if (ts < incident.start || ts >= incident.end) continue;
        if (applyIncident(incident, signals, ts, draw)) affected.get(incident.id)!.push(ts);
      }
      const event: InferenceEvent = {
        event_id: `evt-${seed}-${i}`,
        ts,
        model_id: model.id,
        model_version: model.version,
        tenant: `tenant-${Math.floor(draw.nextFloat() * 20)}`,
        segment,
        features: signals.features.map((x) => Math.fround(x)),
        prediction: signals.prediction,
        confidence: Math.min(1, Math.max(0, signals.confidence)),
        latency_ms: Math.max(1, signals.latency_ms),
        input_tokens: 50 + Math.floor(draw.nextFloat() * 450),
        output_tokens: Math.max(1, Math.round(signals.output_tokens)),
        attributes: {},
      };
      pending.push({ arrival: ts + lagMs[m]!, seq: i, event });
      while (pending.size > 0 && pending.peek()!.arrival <= ts) yield pending.pop()!.event;
    }
    while (pending.size > 0) yield pending.pop()!.event;
    lastTruth = {
      run: {
        seed,
        events: count,
        models: modelCount,
        start_ms: startMs,
        end_ms: lastTs + 1,
        events_per_second: eventsPerSecond,
        cell_window_ms: cellWindowMs,
        traffic_cells: cells.size,
        fields: ['latency_ms', 'confidence', 'prediction', 'output_tokens', ...Array.from({ length: featureCount }, (_, i) => `features[${i}]`)],
        ...(shape.name === 'default' ? {} : { profile: shape.name }),
      },
      incidents: incidents.map((incident) => {
        const times = affected.get(incident.id)!;
        return { ...incident, affected_events: times.length, affected_ts: times };
      }),
      ...(noise === undefined ? {} : { noise: noiseEpisodes }),
    };
  }

  return {
    events: { [Symbol.iterator]: events },
    incidents,
    startMs,
    spanMs,
    truth() {
      if (lastTruth === undefined) throw new Error('generator: iterate the events before asking for the ground truth');
      return lastTruth;
    },
  };
}



/** A small binary heap (the disorder buffer holds up to rate × maxDisorderMs events). */
class MinHeap<T> {
  readonly #items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => number) {}
  get size(): number {
    return this.#items.length;
  }
  peek(): T | undefined {
    return this.#items[0];
  }
  push(item: T): void {
    const items = this.#items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.less(items[i]!, items[parent]!) >= 0) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }
  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let smallest = i;
        if (l < items.length && this.less(items[l]!, items[smallest]!) < 0) smallest = l;
        if (r < items.length && this.less(items[r]!, items[smallest]!) < 0) smallest = r;
        if (smallest === i) break;
        [items[i], items[smallest]] = [items[smallest]!, items[i]!];
        i = smallest;
      }
    }
    return top;
  }
}
