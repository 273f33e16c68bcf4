/**
 * A seeded, reproducible stream of InferenceEvents: many models with Zipf-distributed traffic (a few
 * hot keys), segments with skewed shares (rare ones at 0.5–2 %), heavy-tailed noise that is not an
 * incident, and injected incidents (a shift in one field of one model's segment for a stretch of event
 * time). The same seed gives the same events, so runs can be compared.
 *
 * The small, fast generator the benchmarks (scripts/bench) and a few tests use; the lab's full
 * generator (stream.ts: daily pattern, more incident kinds, ground truth, NAB replay) shares its
 * draws. It stays as it is so benchmark figures stay comparable from one version to the next.
 */
import type { InferenceEvent } from '../../schemas/index.js';
import { SeededRandom } from '../../core/random.js';
import { cumulative, pick } from './draws.js';

export interface Incident {
  readonly model_id: string;
  readonly segment: string;
  readonly field: 'latency_ms' | 'confidence' | 'output_tokens';
  readonly direction: 'HIGH' | 'LOW';
  readonly start: number;
  readonly end: number;
}

export interface GeneratorOptions {
  readonly count: number;
  readonly seed?: number;
  readonly models?: number;
  /** Event time of the first event, epoch ms. Default 2026-01-01T00:00:00Z. */
  readonly startMs?: number;
  /** Events per second of event time. Default 1000. */
  readonly eventsPerSecond?: number;
  /** Incidents to inject. Default max(1, count / 50 000). */
  readonly incidents?: number;
}

const SEGMENTS: readonly (readonly [string, number])[] = [
  ['consumer', 0.55],
  ['enterprise', 0.3],
  ['smb', 0.12],
  ['public-sector', 0.02],
  ['research', 0.01],
];

/** The events and the incidents injected in them. */
export function generateInferenceEvents(options: GeneratorOptions): { events: Iterable<InferenceEvent>; incidents: Incident[] } {
  const { count, seed = 1, models = 50, startMs = Date.UTC(2026, 0, 1), eventsPerSecond = 1000 } = options;
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a whole number ≥ 0, got ${count}`);
  const random = SeededRandom.fromSeed(seed);
  const modelIds = Array.from({ length: models }, (_, i) => `model-${String(i).padStart(3, '0')}`);
  // Zipf(s = 1.1) over models: cumulative weights for inverse-CDF draws.
  const zipf = cumulative(modelIds.map((_, rank) => 1 / Math.pow(rank + 1, 1.1)));
  const segments = cumulative(SEGMENTS.map(([, share]) => share));
  const durationMs = (count / eventsPerSecond) * 1000;
  const incidentCount = options.incidents ?? Math.max(1, Math.floor(count / 50_000));
  const fields: Incident['field'][] = ['latency_ms', 'confidence', 'output_tokens'];
  const incidents: Incident[] = Array.from({ length: incidentCount }, () => {
    const start = startMs + Math.floor(random.nextFloat() * durationMs * 0.8);
    const field = fields[Math.floor(random.nextFloat() * fields.length)]!;
    return {
      model_id: modelIds[Math.floor(random.nextFloat() * Math.min(models, 10))]!,
      // Most incidents hit rare segments, where uniform sampling sees least.
      segment: SEGMENTS[random.nextFloat() < 0.7 ? 3 + Math.floor(random.nextFloat() * 2) : Math.floor(random.nextFloat() * 3)]![0],
      field,
      direction: field === 'confidence' ? 'LOW' : 'HIGH',
      start,
      end: start + Math.max(5_000, durationMs * 0.05),
    };
  });

  function* events(): Generator<InferenceEvent> {
    const draw = SeededRandom.fromSeed(seed + 1);
    for (let i = 0; i < count; i++) {
      const ts = startMs + Math.floor((i / eventsPerSecond) * 1000);
      const model_id = modelIds[pick(zipf, draw.nextFloat())]!;
      const segment = SEGMENTS[pick(segments, draw.nextFloat())]![0];
      // Heavy-tailed noise: occasional large latencies that are not incidents.
      const tail = draw.nextFloat() < 0.002 ? 5 + draw.nextFloat() * 20 : 1;
      let latency_ms = (80 + 40 * draw.nextGaussian()) * tail;
      let confidence = Math.min(1, Math.max(0, 0.85 + 0.05 * draw.nextGaussian()));
      let output_tokens = Math.max(1, Math.round(200 + 50 * draw.nextGaussian()));
      for (const incident of incidents) {
        if (incident.model_id !== model_id || incident.segment !== segment || ts < incident.start || ts >= incident.end) continue;
        if (incident.field === 'latency_ms') latency_ms *= 4;
        else if (incident.field === 'confidence') confidence *= 0.5;
        else output_tokens *= 6;
      }
      yield {
        event_id: `evt-${seed}-${i}`,
        ts,
        model_id,
        model_version: 'v1',
        tenant: `tenant-${Math.floor(draw.nextFloat() * 20)}`,
        segment,
        features: [draw.nextGaussian(), draw.nextGaussian(), draw.nextGaussian(), draw.nextGaussian()].map((x) => Math.fround(x)),
        prediction: draw.nextFloat(),
        confidence,
        latency_ms: Math.max(1, latency_ms),
        input_tokens: 100 + Math.floor(draw.nextFloat() * 400),
        output_tokens,
        attributes: {},
      };
    }
  }
  return { events: { [Symbol.iterator]: events }, incidents };
}
