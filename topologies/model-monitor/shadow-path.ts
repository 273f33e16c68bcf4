/**
 * Shadow detectors (`MODEL_MONITOR_SHADOW_DETECTORS`): detectors that run on the same records as
 * the live path and write their mentions (`shadow: true`) to `mentions.shadow` only, for
 * differential testing against labels (`signalpath shadow-report`, docs/feedback.md).
 *
 * ```
 * validate → shadow (every record: each shadow sketch's table; its evidence gate; a copy of the
 *            record per shadow with findings, or once per dedup window as a watermark tick)
 *   ├─ live record → sketch → sample → … → review-lane ─┐
 *   └─ shadow copies → per shadow: windowedDedup ───────┴→ shadow-out (merged; the shadow's to 'shadow')
 * ```
 *
 * A shadow is written `sketch-cusum` (a second change sketch with the live settings) or with
 * parameters `sketch-cusum@scale=0.5&budget=2`: `scale`, a factor on its alarm level (0.1–100);
 * `budget`, its own false-alarm budget per hour (otherwise MODEL_MONITOR_FALSE_ALARMS_PER_HOUR).
 * Its state (every key's baseline and CUSUM) is the `shadow` step's snapshot, per shadow by its name;
 * {@link promotedSketchSnapshot} turns one into the live `sketch` step's snapshot (promotion).
 *
 * Live output is untouched: the live record goes on unchanged; the shadow's copies share its
 * settlement (its offset commits once the shadow mention is written too) and never enter the live
 * steps. A shadow mention's id is `shadow:<name>:<dedup id>`, so a label of it is never taken for a
 * live one's ({@link isShadowMentionId}).
 *
 * State: per shadow a sketch table (bounded by MODEL_MONITOR_SKETCH_MAX_KEYS), an evidence gate (16
 * windows), its dedup's open mentions (bounded). Delivery: as the live path's (at-least-once).
 */
import { map, merge, Observable, Subject, type OperatorFunction } from 'rxjs';
import { fanOut, type Envelope } from '../../core/envelope.js';
import { assertSnapshotVersion, type OperatorSnapshot, type OperatorStateHandle } from '../../core/state.js';
import { SketchTable, type SketchAlarm } from '../../operators/change-sketch/index.js';
import type { Detection } from '../../operators/parallel-detect.js';
import { DedupCounters, windowedDedup } from '../../operators/windowed-dedup.js';
import type { RoutedEnvelope } from '../../runtime/topology.js';
import type { InferenceEvent, Mention } from '../../schemas/index.js';
import { SKETCH_DETECTOR, SketchEvidenceGate, sketchFieldReader, sketchFindings, sketchTransformOf } from './sketch-evidence.js';

/** One shadow detector as configured. */
export interface ShadowSpec {
  /** As written in MODEL_MONITOR_SHADOW_DETECTORS (normalised): names its mentions and its state. */
  readonly name: string;
  /** The registry name (today: sketch-cusum). */
  readonly detector: string;
  /** Factor on its alarm level. */
  readonly scale: number;
  /** Its false-alarm budget per hour, or undefined: the live one's. */
  readonly budget: number | undefined;
}

export const SHADOW_DETECTOR_NAMES = [SKETCH_DETECTOR] as const;
const SHADOW_ID_PREFIX = 'shadow:';
const PARAMETERS: Readonly<Record<string, readonly [number, number]>> = { scale: [0.1, 100], budget: [1e-6, 1e6] };

/** What MODEL_MONITOR_SHADOW_DETECTORS accepts, for error messages and help. */
export const SHADOW_SYNTAX = `none, or a comma-separated list of ${SHADOW_DETECTOR_NAMES.join(', ')}, each optionally with parameters: sketch-cusum@scale=0.5&budget=2 (scale: factor on its level, [0.1, 100]; budget: its false alarms per hour, [1e-6, 1e6])`;

/** Parses MODEL_MONITOR_SHADOW_DETECTORS; throws a RangeError that says what is accepted. */
export function parseShadowDetectors(text: string): ShadowSpec[] {
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 1 && items[0] === 'none') return [];
  if (items.length === 0) throw new RangeError(`expected ${SHADOW_SYNTAX}`);
  const specs: ShadowSpec[] = [];
  for (const item of items) {
    const [detector = '', parameters] = item.split('@', 2) as [string, string | undefined];
    if (!(SHADOW_DETECTOR_NAMES as readonly string[]).includes(detector)) throw new RangeError(`unknown shadow detector ${JSON.stringify(detector)}: expected ${SHADOW_SYNTAX}`);
    const values: Record<string, number> = {};
    for (const pair of parameters === undefined ? [] : parameters.split('&')) {
      const [key = '', raw] = pair.split('=', 2) as [string, string | undefined];
      const range = PARAMETERS[key];
      if (range === undefined) throw new RangeError(`${item}: unknown parameter ${JSON.stringify(key)}: expected ${SHADOW_SYNTAX}`);
      const value = Number(raw);
      if (raw === undefined || raw.trim() === '' || !(value >= range[0] && value <= range[1])) throw new RangeError(`${item}: ${key} must be a number in [${range[0]}, ${range[1]}], got ${JSON.stringify(raw ?? '')}`);
      if (key in values) throw new RangeError(`${item}: parameter ${key} is given twice`);
      values[key] = value;
    }
    const parts = Object.keys(values).sort().map((k) => `${k}=${values[k]}`);
    const name = parts.length === 0 ? detector : `${detector}@${parts.join('&')}`;
    if (specs.some((s) => s.name === name)) throw new RangeError(`shadow detector ${name} is listed twice`);
    specs.push({ name, detector, scale: values['scale'] ?? 1, budget: values['budget'] });
  }
  return specs;
}

/** Whether a mention id is a shadow mention's (labels of it must not move live levels). */
export function isShadowMentionId(mentionId: string): boolean {
  return mentionId.startsWith(SHADOW_ID_PREFIX);
}

/** The shadow's name in a shadow mention id, or undefined for a live id. */
export function shadowNameOf(mentionId: string): string | undefined {
  if (!isShadowMentionId(mentionId)) return undefined;
  const rest = mentionId.slice(SHADOW_ID_PREFIX.length);
  const end = rest.indexOf(':');
  return end < 0 ? undefined : rest.slice(0, end);
}

/** Counters per shadow detector, for the probe, the run report and tests. */
export interface ShadowCounts {
  records: number;
  episodes: number;
  evidence: number;
  mentions: number;
  level: number;
}

export interface ShadowPathOptions {
  readonly specs: readonly ShadowSpec[];
  readonly fields: readonly string[];
  readonly falseAlarmsPerHour: number;
  readonly maxKeys: number;
  /** The live sketch's reference and episode settings (MODEL_MONITOR_SKETCH_RELATIVE, _PEER_WINDOW_MS, _MIN_EPISODE_MS), so a shadow differs from live by its own parameters only. */
  readonly relativeToFallback: boolean;
  readonly peerWindowMs: number;
  readonly minEpisodeMs: number;
  readonly evidencePerWindow: number;
  readonly dedupWindowMs: number;
  readonly dedupMode: 'cluster-aware' | 'strict';
}

const OP = 'shadowDetectors';

/** One shadow sketch: its table, evidence gate and dedup. */
class ShadowSketch {
  readonly table: SketchTable;
  readonly gate: SketchEvidenceGate;
  readonly counts: ShadowCounts = { records: 0, episodes: 0, evidence: 0, mentions: 0, level: 0 };
  readonly dedup = new DedupCounters();

  constructor(
    readonly spec: ShadowSpec,
    options: ShadowPathOptions,
  ) {
    const scales = { version: 0, scaleOf: () => spec.scale };
    this.table = new SketchTable({
      fields: options.fields,
      transforms: options.fields.map(sketchTransformOf),
      level: { falseAlarmsPerHour: spec.budget ?? options.falseAlarmsPerHour },
      maxKeys: options.maxKeys,
      relativeToFallback: options.relativeToFallback,
      peerWindowMs: options.peerWindowMs,
      minEpisodeMs: options.minEpisodeMs,
      ...(spec.scale === 1 ? {} : { levelScales: scales }),
    });
    this.gate = new SketchEvidenceGate({ perWindow: options.evidencePerWindow, windowMs: options.dedupWindowMs });
  }

  /** The shadow findings of one record (empty: none). */
  update(event: InferenceEvent, eventTimeMs: number, values: Float64Array): Detection<InferenceEvent>['findings'] {
    const verdict = this.table.update(`${event.model_id}\u0000${event.segment}`, event.model_id, eventTimeMs, values);
    this.counts.records = this.table.counts.records;
    this.counts.episodes = this.table.counts.episodes;
    this.counts.level = this.table.level;
    if (verdict.alarms.length === 0) return [];
    const evidence: SketchAlarm[] | undefined = this.gate.admit(event.model_id, event.segment, event.ts, verdict.alarms);
    if (evidence === undefined) return [];
    this.counts.evidence++;
    return sketchFindings(evidence).map((finding) => ({ ...finding, shadow: true }));
  }
}

/**
 * The shadow path of one chain build: `tap` is the `shadow` step (every record passes on unchanged;
 * copies go to the shadows), `join` the last step (merges the shadow mentions, routed to `output`).
 */
export class ShadowPath {
  readonly sketches: readonly ShadowSketch[];
  readonly #options: ShadowPathOptions;
  readonly #readers: ((event: InferenceEvent) => number | undefined)[];
  readonly #inputs: Subject<Envelope<Detection<InferenceEvent>>>[];

  constructor(options: ShadowPathOptions) {
    this.#options = options;
    this.sketches = options.specs.map((spec) => new ShadowSketch(spec, options));
    this.#readers = options.fields.map(sketchFieldReader);
    this.#inputs = this.sketches.map(() => new Subject());
  }

  /** Counters by shadow name. */
  counts(): Record<string, ShadowCounts> {
    return Object.fromEntries(this.sketches.map((s) => [s.spec.name, { ...s.counts }]));
  }

  /** The `shadow` step: scores every record with every shadow; passes the record on unchanged. */
  tap(state: OperatorStateHandle | undefined): OperatorFunction<Envelope<InferenceEvent>, Envelope<InferenceEvent>> {
    return (source) =>
      new Observable<Envelope<InferenceEvent>>((subscriber) => {
        state?.attach(
          OP,
          () => ({ operator: OP, version: 1, fields: [...this.#options.fields], sketches: this.sketches.map((s) => [s.spec.name, s.table.snapshot()]) }),
          (snapshot) => {
            assertSnapshotVersion(snapshot, OP, 1);
            for (const [name, table] of (snapshot['sketches'] ?? []) as [string, Record<string, unknown>][]) this.sketches.find((s) => s.spec.name === name)?.table.restore(table);
          },
        );
        const values = new Float64Array(this.#readers.length);
        let tickWindow = -Infinity;
        const subscription = source.subscribe({
          next: (envelope) => {
            const event = envelope.value;
            for (let i = 0; i < this.#readers.length; i++) {
              const raw = this.#readers[i]!(event);
              values[i] = typeof raw === 'number' && Number.isFinite(raw) ? raw : NaN;
            }
            // A copy per shadow with findings; every shadow gets one when the watermark enters a new
            // dedup window (a tick without findings), so its windows close as the live ones do.
            const window = Math.floor(envelope.watermarkMs / this.#options.dedupWindowMs);
            const tick = window > tickWindow;
            if (tick) tickWindow = window;
            const copies: { index: number; findings: Detection<InferenceEvent>['findings'] }[] = [];
            this.sketches.forEach((sketch, index) => {
              const findings = sketch.update(event, envelope.eventTimeMs, values);
              if (findings.length > 0 || tick) copies.push({ index, findings });
            });
            if (copies.length === 0) {
              subscriber.next(envelope);
              return;
            }
            const [live, ...shadows] = fanOut<InferenceEvent, unknown>(envelope, [event, ...copies.map((c) => ({ event, findings: c.findings }))]);
            subscriber.next(live as Envelope<InferenceEvent>);
            shadows.forEach((copy, i) => this.#inputs[copies[i]!.index]!.next(copy as Envelope<Detection<InferenceEvent>>));
          },
          error: (error: unknown) => {
            for (const input of this.#inputs) input.error(error);
            subscriber.error(error);
          },
          complete: () => {
            for (const input of this.#inputs) input.complete();
            subscriber.complete();
          },
        });
        return () => subscription.unsubscribe();
      });
  }

  /** The last step: the live records as they come, and every shadow's mentions routed to `output`. */
  join(output: string): OperatorFunction<RoutedEnvelope, RoutedEnvelope> {
    const mentions = this.sketches.map((sketch, i) =>
      this.#inputs[i]!.pipe(
        windowedDedup<InferenceEvent, Mention>(
          {
            mode: this.#options.dedupMode,
            window: { kind: 'tumbling', sizeMs: this.#options.dedupWindowMs },
            toOutput: (mention) => {
              sketch.counts.mentions++;
              return { ...mention, mention_id: `${SHADOW_ID_PREFIX}${sketch.spec.name}:${mention.mention_id}`, shadow: true, attributes: { ...mention.attributes, shadow_detector: sketch.spec.name } };
            },
          },
          sketch.dedup,
        ),
      ),
    );
    return (source) => merge(...mentions.map((stream) => stream.pipe(mapRouted(output))), source);
  }
}

function mapRouted(output: string): OperatorFunction<Envelope<Mention>, RoutedEnvelope> {
  return map((envelope) => ({ ...envelope, output }));
}

/**
 * Promotion: the live `sketch` step's snapshot (changeSketch, version 1) made from the `shadow`
 * step's snapshot of shadow `name` — restore it into the `sketch` step when `name` leaves
 * MODEL_MONITOR_SHADOW_DETECTORS and its settings become the live ones (docs/feedback.md).
 */
export function promotedSketchSnapshot(shadowSnapshot: OperatorSnapshot, name: string): OperatorSnapshot {
  assertSnapshotVersion(shadowSnapshot, OP, 1);
  const entry = ((shadowSnapshot['sketches'] ?? []) as [string, unknown][]).find(([n]) => n === name);
  if (entry === undefined) throw new RangeError(`no shadow named ${JSON.stringify(name)} in the snapshot (it has ${JSON.stringify(((shadowSnapshot['sketches'] ?? []) as [string, unknown][]).map(([n]) => n))})`);
  return { operator: 'changeSketch', version: 1, fields: shadowSnapshot['fields'], table: entry[1] };
}
