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
 * The same options give the same events, byte for byte, and the same ground truth. Nothing here looks
 * at what any detector does: the generator is not tuned to the result.
 */
import type { InferenceEvent } from '../../schemas/index.js';
import { SeededRandom } from '../../core/random.js';
import { modelMetadata } from '../model-registry/metadata.js';
import { applyIncident, drawEffect, INCIDENT_KINDS, type GroundTruthIncident, type MutableSignals } from './incidents.js';
import { cumulative, pick } from './draws.js';

export interface StreamOptions {
  /** Events to generate, integer ≥ 0. Required. */
  readonly count: number;
  /** Seed, integer. Default 1. */
  readonly seed?: number;
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
  /** The ground truth of the last complete iteration. */
  truth(): { run: GroundTruthRun; incidents: GroundTruthIncidentResult[] };
}

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
  const count = check('count', options.count, 0, 1e10, true);
  const seed = check('seed', options.seed ?? 1, -(2 ** 31), 2 ** 31 - 1, true);
  const modelCount = check('models', options.models ?? 50, 1, 100_000, true);
  const zipfExponent = check('zipfExponent', options.zipfExponent ?? 1.1, 0.01, 10);
  const startMs = check('startMs', options.startMs ?? Date.UTC(2026, 0, 1), 0, 1e14, true);
  const eventsPerSecond = check('eventsPerSecond', options.eventsPerSecond ?? 100, 1e-3, 1e7);
  const dayMs = check('dayMs', options.dayMs ?? 86_400_000, 1000, 1e12);
  const dailyAmplitude = check('dailyAmplitude', options.dailyAmplitude ?? 0.5, 0, 0.9);
  const incidentCount = check('incidents', options.incidents ?? Math.max(3, Math.round(count / 20_000)), 0, 1e6, true);
  const rareShare = check('rareIncidentShare', options.rareIncidentShare ?? 0.7, 0, 1);
  const [spanMin, spanMax] = options.incidentSpan ?? [0.05, 0.12];
  check('incidentSpan[0]', spanMin, 0, 1);
  check('incidentSpan[1]', spanMax, spanMin, 1);
  const featureCount = check('features', options.features ?? 4, 1, 1024, true);
  const maxDisorderMs = check('maxDisorderMs', options.maxDisorderMs ?? 2000, 0, 3_600_000, true);
  const cellWindowMs = check('cellWindowMs', options.cellWindowMs ?? 60_000, 1, 1e12, true);

  const setup = SeededRandom.fromSeed(seed);
  const gaussianOf = (r: SeededRandom): number => Math.sqrt(-2 * Math.log(r.nextOpenFloat())) * Math.cos(2 * Math.PI * r.nextFloat());
  const models: ModelProfile[] = Array.from({ length: modelCount }, (_, i) => {
    const id = `model-${String(i).padStart(3, '0')}`;
    // Two rare segments per model (0.5–2 % each); the rest share what is left, unevenly.
    const order = [...SEGMENT_NAMES.keys()].map((k) => ({ k, u: setup.nextFloat() })).sort((a, b) => a.u - b.u).map((x) => x.k);
    const shares = new Array<number>(SEGMENT_NAMES.length).fill(0);
    const rare = order.slice(0, 2);
    let left = 1;
    for (const k of rare) {
      shares[k] = 0.005 + 0.015 * setup.nextFloat();
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
      rareSegments: rare.map((k) => SEGMENT_NAMES[k]!),
      latencyMs: modelMetadata(id, { models: Number.MAX_SAFE_INTEGER })?.expected_latency_ms ?? 100,
      segmentLatency: SEGMENT_NAMES.map(() => 0.8 + 0.5 * setup.nextFloat()),
      segmentConfidence: SEGMENT_NAMES.map(() => 0.78 + 0.12 * setup.nextFloat()),
      predictionLogit: gaussianOf(setup) * 0.7,
      featureMeans: Array.from({ length: featureCount }, () => gaussianOf(setup) * 0.5),
    };
  });
  const modelCdf = cumulative(models.map((_, rank) => 1 / Math.pow(rank + 1, zipfExponent)));
  const lagMs = models.map(() => Math.floor(setup.nextFloat() * (maxDisorderMs + 1)));

  // Event time advances by 1/rate(t), so the span depends on where in the day the stream falls:
  // walk the clock once (cheap) to know it before placing incidents.
  const stepMs = (t: number): number => 1000 / (eventsPerSecond * (1 + dailyAmplitude * Math.sin((2 * Math.PI * (t - startMs)) / dayMs - Math.PI / 2)));
  let spanMs = 0;
  for (let i = 0; i < count; i++) spanMs += stepMs(startMs + spanMs);
  const incidentRandom = SeededRandom.fromSeed(seed ^ 0x5eed);
  const incidents: GroundTruthIncident[] = Array.from({ length: incidentCount }, (_, n) => {
    // Incidents follow traffic (Zipf): a hot model has more to go wrong and more users to notice it.
    const model = models[pick(modelCdf, incidentRandom.nextFloat())]!;
    const inRare = incidentRandom.nextFloat() < rareShare;
    const segment = inRare
      ? model.rareSegments[Math.floor(incidentRandom.nextFloat() * 2)]!
      : SEGMENT_NAMES.filter((s) => !model.rareSegments.includes(s))[Math.floor(incidentRandom.nextFloat() * 3)]!;
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

  let lastTruth: { run: GroundTruthRun; incidents: GroundTruthIncidentResult[] } | undefined;

  function* events(): Generator<InferenceEvent> {
    const draw = SeededRandom.fromSeed(seed + 1);
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
      const m = pick(modelCdf, draw.nextFloat());
      const model = models[m]!;
      const s = pick(model.segmentCdf, draw.nextFloat());
      const segment = SEGMENT_NAMES[s]!;
      cells.add(`${model.id}|${segment}|${Math.floor(ts / cellWindowMs)}`);
      // Normal behaviour with heavy-tailed noise that is not an incident.
      let latency = model.latencyMs * model.segmentLatency[s]! * (1 + 0.15 * load) * Math.exp(0.25 * gaussianOf(draw));
      if (draw.nextFloat() < 0.003) latency *= Math.min(50, Math.pow(draw.nextOpenFloat(), -1 / 1.5));
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
      },
      incidents: incidents.map((incident) => {
        const times = affected.get(incident.id)!;
        return { ...incident, affected_events: times.length, affected_ts: times };
      }),
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
