/**
 * changeSketch — a full-coverage change detector to put before a sampler: every record updates, per
 * key × field, a robust baseline and a two-sided CUSUM, and leaves with the alarms it is part of and
 * its key's suspicion. Cheap enough for every record (about a microsecond for eight fields), so an
 * incident is found on all of its records whatever a later sampler keeps.
 *
 * The arithmetic (baseline, fallback to a coarser key, CUSUM, episodes, re-learning, level from a
 * false-alarm budget) is in `change-sketch/sketch-table.ts`; the level mapping and its simulated
 * correction in `change-sketch/alarm-level.ts`; the design and the measured figures in
 * docs/detection.md.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { withValue, type Envelope } from '../core/envelope.js';
import { SketchTable, type LevelScales, type SketchAlarm, type SketchCounts, type SketchLevel } from './change-sketch/sketch-table.js';
import { FIELD_TRANSFORMS, type FieldTransform } from './change-sketch/transforms.js';
import { checkBoolean, checkFields, checkFunction, checkInteger, checkNumber, checkOneOf } from './options.js';
import { assertSnapshotVersion, assertStateHandle, type OperatorStateHandle } from '../core/state.js';

export type { AlarmDirection, LevelScales, SketchAlarm, SketchCounts, SketchLevel } from './change-sketch/sketch-table.js';
export type { FieldTransform } from './change-sketch/transforms.js';

/** One watched field: its name in alarms, how to read it, and its transform. */
export interface SketchField<T> {
  readonly name: string;
  /** The raw value; undefined or non-finite: the field is skipped for this record. */
  readonly valueOf: (record: T) => number | undefined;
  /** 'log' for positive quantities (latency, counts), 'logit' for probabilities, 'auto' for either a probability or not (chosen per key on its warm-up), 'identity' otherwise. Default 'identity'. */
  readonly transform?: FieldTransform;
}

/** A record and what the sketch says about it. */
export interface Sketched<T> {
  readonly record: T;
  /** The fields of this record whose key × field is in an alarm episode (most records: none). */
  readonly alarms: readonly SketchAlarm[];
  /** The key's largest CUSUM statistic over its fields and directions, divided by the level (≥ 1: alarmed). */
  readonly suspicion: number;
}

export interface ChangeSketchOptions<T> {
  /** The state key of a record (e.g. model × segment). Required. */
  readonly keyOf: (record: T) => string;
  /** A coarser key (e.g. the model) whose baseline, plus a learnt offset, scores a key while it is cold. Default: none (a cold key is not scored). */
  readonly fallbackKeyOf?: (record: T) => string;
  /** The fields watched, 1 to 64. Required. */
  readonly fields: readonly SketchField<T>[];
  /**
   * The alarm level: `{ fixed: h }`, or `{ falseAlarmsPerHour }` (h from a target run length of
   * records rate × fields ÷ budget, the rate measured over event time). Default `{ falseAlarmsPerHour: 1 }`.
   */
  readonly level?: SketchLevel;
  /** CUSUM reference value k, in scales (half the shift it is tuned to). Default 0.5, range (0, 4]. */
  readonly referenceK?: number;
  /** Standardised values are clipped to ±clipZ before the CUSUM. Default 4, range [1, 100]. */
  readonly clipZ?: number;
  /** Weight of a new value in the baseline's mean and variance. Default 0.01, range (0, 0.5]. */
  readonly learnRate?: number;
  /** A value's deviation is clipped to this many scales before it is learnt. Default 2, range [0.5, 10]. */
  readonly learnClip?: number;
  /** Values a key × field learns (median and MAD) before its own baseline scores. Default 50, range [5, 10 000]. */
  readonly warmupPoints?: number;
  /** Values after an episode ends during which the baseline does not learn. Default 20, range [0, 1 000 000]. */
  readonly cooldownPoints?: number;
  /** The CUSUM statistic is capped at capFactor × h, so an episode ends soon after its shift. Default 1.25, range [1, 10]. */
  readonly capFactor?: number;
  /** An episode longer than this (event time) is a new normal: the baseline is learnt again. Default 7 200 000 (2 h), range [1, 1e12]. */
  readonly relearnAfterMs?: number;
  /** Keys (and fallback keys) held; beyond them an idle key is evicted (second chance; counted). Default 100 000, range [1, 10 000 000]. */
  readonly maxKeys?: number;
  /**
   * With `fallbackKeyOf`: a slow, minor key's own baseline is of its values minus the common level of
   * the other keys of its fallback key (a robust median of their levels, each less its usual offset;
   * at least 3 such peers, else the key is its own reference), so a level that moves for every key of a
   * fallback key (a daily cycle) moves the reference at the pace of the fallback's traffic, and one
   * peer's own incident or drift does not. Default true.
   */
  readonly relativeToFallback?: boolean;
  /**
   * With `fallbackKeyOf`: the peer check's window, ms of event time. An alarm whose shift (same field,
   * same direction) most of the other keys of its fallback key show over this window is common to them
   * (a model-wide shift): counted (`commonEpisodes`), not in the key's alarms. 0: no peer check.
   * Default 60 000, range [0, 1e12].
   */
  readonly peerWindowMs?: number;
  /**
   * An alarm is reported once its shift has lasted this long as the key's own, ms of event time from
   * the change point the CUSUM estimates (its last zero) or from the last record at which it was
   * common. Default 0 (at once), range [0, 1e12].
   */
  readonly minEpisodeMs?: number;
  /**
   * Factors on the level per key × field, set at run time: a cell alarms at h × `scaleOf(key,
   * fallbackKey, field)`, read again for a key when `version` has changed (e.g. model-monitor's
   * recalibration from labels). Not in the snapshot: its owner keeps the factors. Default: none (h).
   */
  readonly levelScales?: LevelScales;
  /** Counters (records, episodes, relearns, evictions, keys, common episodes), updated as records pass. */
  readonly counts?: (counts: Readonly<SketchCounts>, level: number) => void;
  /** Snapshot/restore of every key's baseline and statistics. Default: none. */
  readonly state?: OperatorStateHandle;
}

const OP = 'changeSketch';

/**
 * Passes every record on, wrapped in {@link Sketched}: its alarms (field, direction, score) and its
 * key's suspicion.
 *
 * ```
 * key a, field x, fixed level h = 6, warm-up done, baseline 0 ± 1:
 * source: --0--0--4--4--4--0--0--0--|
 * result: --·--·--·--A--A--A--·--·--|     A: alarms [{ field: 'x', direction: 'up', … }]; ·: none
 *           S⁺ 0  0  3.5 7  7.5 7  ...    (capped at 1.25 h; the episode ends when S⁺ < h)
 * ```
 *
 * State: stateful per key × field (and per fallback key × field), bounded by `maxKeys`.
 * Time-based: episodes and re-learning follow the records' event time; nothing waits on a clock.
 *
 * Delivery: one output per input, same envelope, same order, nothing held back or settled here.
 * A callback (`keyOf`, `valueOf`, …) that throws errors the stream.
 *
 * Snapshot (`state` option): `{ operator: 'changeSketch', version: 1, fields, table }` — every key's
 * cells (baseline, warm-up values, CUSUM halves, episode starts), the fallback baselines, the rate
 * measurement. Restored into a new subscription, it continues exactly as the original would have.
 *
 * @example
 * ```ts
 * events.pipe(
 *   changeSketch<InferenceEvent>({
 *     keyOf: (e) => `${e.model_id}|${e.segment}`,
 *     fallbackKeyOf: (e) => e.model_id,
 *     fields: [{ name: 'latency_ms', valueOf: (e) => e.latency_ms, transform: 'log' }],
 *     level: { falseAlarmsPerHour: 1 },
 *   }),
 * );
 * ```
 */
export function changeSketch<T>(options: ChangeSketchOptions<T>): OperatorFunction<Envelope<T>, Envelope<Sketched<T>>> {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${OP}: options are required`);
  checkFunction(OP, 'keyOf', options.keyOf, true);
  checkFunction(OP, 'fallbackKeyOf', options.fallbackKeyOf, false);
  checkFunction(OP, 'counts', options.counts, false);
  checkFields(OP, options.fields, 64);
  for (const field of options.fields) checkOneOf(OP, `fields['${field.name}'].transform`, field.transform ?? 'identity', FIELD_TRANSFORMS);
  const level = options.level ?? { falseAlarmsPerHour: 1 };
  if ('fixed' in level) checkNumber(OP, 'level.fixed', level.fixed, 0, 1e6, true);
  else {
    checkNumber(OP, 'level.falseAlarmsPerHour', level.falseAlarmsPerHour, 0, 1e9, true);
    if (level.recordsPerHour !== undefined) checkNumber(OP, 'level.recordsPerHour', level.recordsPerHour, 0, 1e15, true);
    if (level.correction !== undefined) checkNumber(OP, 'level.correction', level.correction, -100, 100);
  }
  const tableOptions = {
    fields: options.fields.map((f) => f.name),
    transforms: options.fields.map((f) => f.transform ?? 'identity'),
    level,
    referenceK: checkNumber(OP, 'referenceK', options.referenceK ?? 0.5, 0, 4, true),
    clipZ: checkNumber(OP, 'clipZ', options.clipZ ?? 4, 1, 100),
    learnRate: checkNumber(OP, 'learnRate', options.learnRate ?? 0.01, 0, 0.5, true),
    learnClip: checkNumber(OP, 'learnClip', options.learnClip ?? 2, 0.5, 10),
    warmupPoints: checkInteger(OP, 'warmupPoints', options.warmupPoints ?? 50, 5, 10_000),
    cooldownPoints: checkInteger(OP, 'cooldownPoints', options.cooldownPoints ?? 20, 0, 1_000_000),
    capFactor: checkNumber(OP, 'capFactor', options.capFactor ?? 1.25, 1, 10),
    relearnAfterMs: checkNumber(OP, 'relearnAfterMs', options.relearnAfterMs ?? 7_200_000, 1, 1e12),
    maxKeys: checkInteger(OP, 'maxKeys', options.maxKeys ?? 100_000, 1, 10_000_000),
    relativeToFallback: checkBoolean(OP, 'relativeToFallback', options.relativeToFallback ?? true),
    peerWindowMs: checkNumber(OP, 'peerWindowMs', options.peerWindowMs ?? 60_000, 0, 1e12),
    minEpisodeMs: checkNumber(OP, 'minEpisodeMs', options.minEpisodeMs ?? 0, 0, 1e12),
    ...(options.levelScales === undefined ? {} : { levelScales: checkLevelScales(options.levelScales) }),
  };
  assertStateHandle(options.state, `${OP}: state`);
  const fields = options.fields.map((f) => ({ valueOf: f.valueOf }));

  return (source) =>
    new Observable<Envelope<Sketched<T>>>((subscriber) => {
      const table = new SketchTable(tableOptions);
      const values = new Float64Array(fields.length);
      let seen = 0;
      options.state?.attach(
        OP,
        () => ({ operator: OP, version: 1, fields: table.fields, table: table.snapshot() }),
        (snapshot) => {
          assertSnapshotVersion(snapshot, OP, 1);
          if (seen > 0) throw new Error(`${OP}: restore() must come before the first record`);
          const snapFields = snapshot['fields'];
          if (!Array.isArray(snapFields) || snapFields.join('\u0000') !== table.fields.join('\u0000')) {
            throw new RangeError(`${OP}: the snapshot watches fields ${JSON.stringify(snapFields)}, this sketch ${JSON.stringify(table.fields)}`);
          }
          table.restore(snapshot['table'] as Record<string, unknown>);
        },
      );
      const subscription = source.subscribe({
        next: (envelope) => {
          let sketched: Sketched<T>;
          try {
            const record = envelope.value;
            for (let i = 0; i < fields.length; i++) {
              const raw = fields[i]!.valueOf(record);
              values[i] = typeof raw === 'number' && Number.isFinite(raw) ? raw : NaN;
            }
            const verdict = table.update(options.keyOf(record), options.fallbackKeyOf?.(record), envelope.eventTimeMs, values);
            seen++;
            options.counts?.(table.counts, table.level);
            sketched = { record, alarms: verdict.alarms, suspicion: verdict.suspicion };
          } catch (error) {
            subscriber.error(error);
            return;
          }
          subscriber.next(withValue(envelope, sketched));
        },
        error: (error) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
      return () => subscription.unsubscribe();
    });
}

function checkLevelScales(scales: LevelScales): LevelScales {
  if (typeof scales !== 'object' || scales === null || typeof scales.scaleOf !== 'function' || typeof scales.version !== 'number') {
    throw new TypeError(`${OP}: option 'levelScales' must be { version: number, scaleOf(key, fallbackKey, field): number }, got ${String(scales)}`);
  }
  return scales;
}
