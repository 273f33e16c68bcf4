/**
 * `signalpath generate --nab`: the NAB corpus replayed as keyed series inside the synthetic
 * high-volume background, with NAB's labelled windows as the incidents of the ground truth.
 *
 * - Each NAB data file becomes one model (`nab-<category>-<file>`, segment `nab`) whose value is
 *   written to one field (`features[0]` by default: any real number fits there, where latency or
 *   confidence would clamp it); its other fields are quiet noise drawn from the seed.
 * - Each file's timeline is stretched or squeezed onto the background's event-time span (row order
 *   and relative spacing kept), so every series runs alongside the whole background.
 * - Each labelled window becomes `{ kind: 'nab-window', model_id, segment: 'nab', field, direction:
 *   'SHIFT', start, end }` (event time; `end` is one past the window's last row), and its affected
 *   events are the rows inside it.
 * - The background is the lab generator's stream, with no injected incidents of its own unless
 *   asked for (`incidents`), so the ground truth is NAB's.
 *
 * Events are merged in event time with the background's (which has bounded disorder across keys);
 * each series is in event-time order. Same corpus and options → the same events, byte for byte.
 */
import type { InferenceEvent } from '../../schemas/index.js';
import { SeededRandom } from '../../core/random.js';
import type { NabCorpus, NabDataFile } from '../nab/types.js';
import type { GroundTruthIncident } from './incidents.js';
import { generateStream, type GeneratedStream, type GroundTruthIncidentResult, type GroundTruthRun, type StreamOptions } from './stream.js';

export interface NabReplayOptions extends StreamOptions {
  /** The field a NAB value is written to. Default `features[0]`. */
  readonly nabField?: `features[${number}]`;
}

interface Series {
  readonly model: string;
  readonly file: NabDataFile;
  /** Event time of each row. */
  readonly ts: Float64Array;
}

/** The model id of a NAB file: `nab-<category>-<file name without .csv>`, lower-case, [a-z0-9-]. */
export function nabModelId(file: Pick<NabDataFile, 'category' | 'fileName'>): string {
  return `nab-${file.category}-${file.fileName.replace(/\.csv$/, '')}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
}

export function replayNab(corpus: NabCorpus, options: NabReplayOptions): GeneratedStream {
  const field = options.nabField ?? 'features[0]';
  const featureIndex = Number(/^features\[(\d+)\]$/.exec(field)?.[1] ?? Number.NaN);
  const featureCount = options.features ?? 4;
  if (!Number.isInteger(featureIndex) || featureIndex >= featureCount) {
    throw new RangeError(`generate --nab: nabField must be features[i] with i < ${featureCount}, got ${String(field)}`);
  }
  if (corpus.files.length === 0) throw new RangeError(`generate --nab: the NAB corpus at ${corpus.dataDir} has no data files`);
  const background = generateStream({ ...options, incidents: options.incidents ?? 0 });
  const { startMs, spanMs } = background;
  const cellWindowMs = options.cellWindowMs ?? 60_000;

  // Each file's rows, mapped onto [startMs, startMs + spanMs); never backwards within a series.
  const series: Series[] = corpus.files.map((file) => {
    const first = file.timestampsMs[0] ?? 0;
    const last = file.timestampsMs[file.timestampsMs.length - 1] ?? first;
    const scale = last > first ? (spanMs - 1) / (last - first) : 0;
    const ts = new Float64Array(file.timestampsMs.length);
    let previous = startMs;
    file.timestampsMs.forEach((t, i) => {
      previous = Math.max(previous, startMs + Math.floor((t - first) * scale));
      ts[i] = previous;
    });
    return { model: nabModelId(file), file, ts };
  });
  const nabIncidents: GroundTruthIncident[] = series.flatMap((s) =>
    s.file.windows.map((window, n) => ({
      id: `${s.model}-window-${n}`,
      kind: 'nab-window' as const,
      model_id: s.model,
      segment: 'nab',
      field,
      direction: 'SHIFT' as const,
      start: s.ts[window.firstRow]!,
      end: s.ts[window.lastRow]! + 1,
      magnitude: 0,
      affectedShare: 1,
    })),
  );
  // All NAB rows in event-time order (ties: file order, then row order).
  const order: { series: number; row: number }[] = series.flatMap((s, k) => Array.from(s.ts, (_, row) => ({ series: k, row })));
  order.sort((a, b) => series[a.series]!.ts[a.row]! - series[b.series]!.ts[b.row]! || a.series - b.series || a.row - b.row);

  let lastTruth: { run: GroundTruthRun; incidents: GroundTruthIncidentResult[] } | undefined;

  function* events(): Generator<InferenceEvent> {
    const draw = SeededRandom.fromSeed((options.seed ?? 1) ^ 0x0a4b);
    const gaussian = (): number => draw.nextGaussian();
    const cells = new Set<string>();
    let next = 0;
    const nabEvent = (k: number, row: number): InferenceEvent => {
      const s = series[k]!;
      const ts = s.ts[row]!;
      cells.add(`${s.model}|nab|${Math.floor(ts / cellWindowMs)}`);
      const features = Array.from({ length: featureCount }, (_, i) => Math.fround(i === featureIndex ? s.file.values[row]! : gaussian()));
      return {
        event_id: `nab-${s.model}-${row}`,
        ts,
        model_id: s.model,
        model_version: 'nab',
        tenant: 'nab',
        segment: 'nab',
        features,
        prediction: 1 / (1 + Math.exp(-gaussian())),
        confidence: Math.min(1, Math.max(0, 0.85 + 0.04 * gaussian())),
        latency_ms: Math.max(1, 100 * Math.exp(0.25 * gaussian())),
        input_tokens: 50 + Math.floor(draw.nextFloat() * 450),
        output_tokens: Math.max(1, Math.round(200 * Math.exp(0.4 * gaussian()))),
        attributes: { nab_file: s.file.relativePath },
      };
    };
    for (const event of background.events) {
      while (next < order.length && series[order[next]!.series]!.ts[order[next]!.row]! <= event.ts) {
        yield nabEvent(order[next]!.series, order[next]!.row);
        next++;
      }
      yield event;
    }
    for (; next < order.length; next++) yield nabEvent(order[next]!.series, order[next]!.row);

    const truth = background.truth();
    const nabResults: GroundTruthIncidentResult[] = nabIncidents.map((incident) => {
      const s = series.find((x) => x.model === incident.model_id)!;
      const affected = Array.from(s.ts).filter((t) => t >= incident.start && t < incident.end);
      return { ...incident, affected_events: affected.length, affected_ts: affected };
    });
    const nabRows = order.length;
    lastTruth = {
      run: {
        ...truth.run,
        events: truth.run.events + nabRows,
        models: truth.run.models + series.length,
        end_ms: Math.max(truth.run.end_ms, ...series.map((s) => (s.ts[s.ts.length - 1] ?? startMs) + 1)),
        traffic_cells: truth.run.traffic_cells + cells.size,
      },
      incidents: [...truth.incidents, ...nabResults],
    };
  }

  return {
    events: { [Symbol.iterator]: events },
    incidents: [...background.incidents, ...nabIncidents],
    startMs,
    spanMs,
    truth() {
      if (lastTruth === undefined) throw new Error('generate --nab: iterate the events before asking for the ground truth');
      return lastTruth;
    },
  };
}
