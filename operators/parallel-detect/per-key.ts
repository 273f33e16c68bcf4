/**
 * Record detectors built from the point detectors: one point detector per key × field (by default
 * model_id × segment × field), kept in an LRU of `maxKeys` entries so state stays bounded when keys
 * come and go; optionally backed off to a coarser key while a key is cold (`fallbackKeyOf`). Also a Half-Space Trees detector over the `features` vector per key.
 */
import { LRUCache } from 'lru-cache';
import { checkInteger } from '../options.js';
import { HalfSpaceForest, halfSpaceForestOptionSpec } from './half-space-trees.js';
import { createDetector, isDetectorName } from './registry.js';
import type { Detector, DetectorFactory, DetectorState, Finding, SyncRecordDetector } from './types.js';

/** The event fields a detector can watch, by contract name. */
export type ScalarField = 'latency_ms' | 'confidence' | 'prediction' | 'input_tokens' | 'output_tokens';
export const scalarFields: readonly ScalarField[] = ['latency_ms', 'confidence', 'prediction', 'input_tokens', 'output_tokens'];

/**
 * What the default key, field and feature readers look at in a record (an inference event has all of
 * it); a record of another shape passes its own `keyOf`, `fieldValueOf` or `featuresOf`.
 */
export interface ModelRecord {
  readonly model_id?: string;
  readonly segment?: string;
  /** The feature vector; `features[i]` names one of its entries as a field. */
  readonly features?: readonly number[];
}

/** The numeric value of `field` (a numeric property, or `features[i]`) of a {@link ModelRecord}. */
export function inferenceFieldValue(event: ModelRecord, field: string): number | undefined {
  const feature = /^features\[(\d+)\]$/.exec(field);
  if (feature) return event.features?.[Number(feature[1])];
  const value = (event as Record<string, unknown>)[field];
  return typeof value === 'number' ? value : undefined;
}

/** The default state key: model × segment. */
export const modelSegmentKey = (event: ModelRecord): string => `${event.model_id ?? ''}\u0000${event.segment ?? ''}`;

export interface PerKeyDetectorOptions<T> {
  /** A registry name or a factory. Required. */
  readonly detector: string | DetectorFactory;
  /** Options for the factory. */
  readonly detectorOptions?: Readonly<Record<string, number>>;
  /** Fields watched (`latency_ms`, …, `features[i]`). Default: the five scalar fields. */
  readonly fields?: readonly string[];
  /** Score at or above which a point is a finding. Default: the detector's own threshold. */
  readonly threshold?: number;
  /** Name in findings. Default: the registry name (or 'custom'). */
  readonly name?: string;
  /** Shadow mode. Default false. */
  readonly shadow?: boolean;
  /** State key of a record. Default model_id × segment. */
  readonly keyOf?: (record: T) => string;
  /** Value of a field. Default: {@link inferenceFieldValue} (a numeric property, or `features[i]`). */
  readonly fieldValueOf?: (record: T, field: string) => number | undefined;
  /** Key × field detectors kept (least recently used evicted), [1, 1e7]. Default 100000. */
  readonly maxKeys?: number;
  /**
   * Hierarchical back-off: a coarser key (e.g. the model alone) whose detector learns every record
   * too, and scores a record while its own key has learnt fewer than `fallbackUntilPoints` points.
   * A rare segment sees too few records (fewer still after sampling) for its own detector to warm up
   * before its incident is over; against its model's baseline it can be scored from the start.
   * Default: none (a cold key scores 0).
   */
  readonly fallbackKeyOf?: (record: T) => string;
  /** Points a key learns before its own detector takes over from the fallback, [1, 1e6]. Default 60. */
  readonly fallbackUntilPoints?: number;
}

interface KeyedDetector {
  readonly detector: Detector;
  points: number;
}

export function perKeyDetector<T = ModelRecord>(options: PerKeyDetectorOptions<T>): SyncRecordDetector<T> {
  const factory: DetectorFactory =
    typeof options.detector === 'function'
      ? options.detector
      : ((name: string) => {
          if (!isDetectorName(name)) createDetector(name); // throws, listing the names
          return (o?: Readonly<Record<string, number>>) => createDetector(name, o);
        })(options.detector);
  const probe = factory(options.detectorOptions); // validates the options now, not on the first record
  const name = options.name ?? (typeof options.detector === 'string' ? options.detector : 'custom');
  const threshold = options.threshold ?? probe.threshold;
  if (!(threshold >= 0 && threshold <= 1)) throw new RangeError(`perKeyDetector: option 'threshold' must be in [0, 1], got ${threshold}`);
  const maxKeys = checkInteger('perKeyDetector', 'maxKeys', options.maxKeys ?? 100_000, 1, 1e7);
  const fields = options.fields ?? scalarFields;
  const keyOf = options.keyOf ?? (modelSegmentKey as unknown as (record: T) => string);
  const valueOf = options.fieldValueOf ?? (inferenceFieldValue as unknown as (record: T, field: string) => number | undefined);
  const shadow = options.shadow ?? false;
  const fallbackKeyOf = options.fallbackKeyOf;
  if (fallbackKeyOf !== undefined && typeof fallbackKeyOf !== 'function') throw new TypeError(`perKeyDetector: option 'fallbackKeyOf' must be a function (record) => string`);
  const fallbackUntilPoints = checkInteger('perKeyDetector', 'fallbackUntilPoints', options.fallbackUntilPoints ?? 60, 1, 1e6);
  // Fallback states share the LRU, under a prefix no record key can produce.
  const FALLBACK = '\u0001fallback\u0000';
  let states = new LRUCache<string, KeyedDetector>({ max: maxKeys });
  const stateOf = (stateKey: string): KeyedDetector => {
    let state = states.get(stateKey);
    if (state === undefined) {
      state = { detector: factory(options.detectorOptions), points: 0 };
      states.set(stateKey, state);
    }
    return state;
  };

  return {
    name,
    fields,
    shadow,
    update(record, eventTimeMs) {
      const key = keyOf(record);
      const coarseKey = fallbackKeyOf?.(record);
      const findings: Finding[] = [];
      for (const field of fields) {
        const value = valueOf(record, field);
        if (value === undefined || !Number.isFinite(value)) continue;
        const own = stateOf(`${key}\u0000${field}`);
        let result = own.detector.observe(eventTimeMs, value);
        own.points++;
        if (coarseKey !== undefined) {
          // Both learn every record; the coarse one speaks only while the key's own is still cold.
          const coarse = stateOf(`${FALLBACK}${coarseKey}\u0000${field}`).detector.observe(eventTimeMs, value);
          if (own.points <= fallbackUntilPoints) result = coarse;
        }
        const { score, direction } = result;
        if (score >= threshold && score > 0) findings.push({ field, direction, score, detector: name, shadow });
      }
      return findings;
    },
    snapshot(): DetectorState {
      return { entries: [...states.entries()].map(([k, d]) => [k, d.detector.snapshot(), d.points]) };
    },
    restore(state) {
      const entries = state['entries'];
      if (!Array.isArray(entries)) throw new TypeError(`${name}: restore() needs { entries: [key, state, points?][] }`);
      states = new LRUCache<string, KeyedDetector>({ max: maxKeys });
      for (const [k, s, points] of entries as [string, DetectorState, number | undefined][]) {
        const detector = factory(options.detectorOptions);
        detector.restore(s);
        states.set(k, { detector, points: typeof points === 'number' ? points : fallbackUntilPoints });
      }
    },
  };
}

export interface FeatureForestDetectorOptions<T> {
  /** Forest options (trees, depth, windowPoints, sizeLimitFraction, seed, threshold). */
  readonly forestOptions?: Readonly<Record<string, number>>;
  readonly name?: string;
  readonly shadow?: boolean;
  readonly keyOf?: (record: T) => string;
  /** The vector. Default: the event's `features`. */
  readonly featuresOf?: (record: T) => readonly number[] | undefined;
  /** Keys kept, [1, 1e6]. Default 10000. */
  readonly maxKeys?: number;
}

/** Half-Space Trees over the feature vector, per key; a finding names the most deviant `features[i]`. */
export function featureForestDetector<T = ModelRecord>(options: FeatureForestDetectorOptions<T> = {}): SyncRecordDetector<T> {
  new HalfSpaceForest(1, options.forestOptions); // validates the options now, not on the first record
  const threshold = options.forestOptions?.['threshold'] ?? halfSpaceForestOptionSpec.threshold.default;
  const name = options.name ?? 'half-space-trees';
  const shadow = options.shadow ?? false;
  const keyOf = options.keyOf ?? (modelSegmentKey as unknown as (record: T) => string);
  const featuresOf = options.featuresOf ?? ((record: T) => (record as ModelRecord).features);
  const maxKeys = checkInteger('featureForestDetector', 'maxKeys', options.maxKeys ?? 10_000, 1, 1e6);
  let forests = new LRUCache<string, HalfSpaceForest>({ max: maxKeys });
  return {
    name,
    fields: ['features'],
    shadow,
    update(record) {
      const features = featuresOf(record);
      if (features === undefined || features.length === 0) return [];
      const key = `${keyOf(record)}\u0000${features.length}`;
      let forest = forests.get(key);
      if (forest === undefined) {
        forest = new HalfSpaceForest(features.length, options.forestOptions);
        forests.set(key, forest);
      }
      const { score, dimension } = forest.scoreAndLearn(features);
      return score >= threshold && score > 0 ? [{ field: `features[${dimension}]`, direction: 'SHIFT' as const, score, detector: name, shadow }] : [];
    },
    snapshot(): DetectorState {
      return { entries: [...forests.entries()].map(([k, f]) => [k, f.dims, f.snapshot()]) };
    },
    restore(state) {
      const entries = state['entries'];
      if (!Array.isArray(entries)) throw new TypeError(`${name}: restore() needs { entries }`);
      forests = new LRUCache<string, HalfSpaceForest>({ max: maxKeys });
      for (const [k, dims, s] of entries as [string, number, DetectorState][]) {
        const forest = new HalfSpaceForest(dims, options.forestOptions);
        forest.restore(s);
        forests.set(k, forest);
      }
    },
  };
}
