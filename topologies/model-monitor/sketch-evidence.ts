/**
 * How model-monitor turns the change sketch's alarms into findings.
 *
 * An alarm is about a key × field, not a record; the records that make it a mention are a few of its
 * alarmed records per dedup window, enough for the mention to carry evidence ids and a count. So the
 * gate lets through, per model × segment × field × direction and dedup window, the first
 * `perWindow` alarmed records whose own value points the alarm's way (z beyond k = 0.5: after a shift
 * ends, the episode lasts a few more records whose values no longer deviate; they are not evidence),
 * outside the sampling budget; the rest meet the sampler like any record, and are counted.
 *
 * Plain class, no RxJS. State: counts per open window (the latest `keepWindows`).
 */
import type { FieldTransform, SketchAlarm } from '../../operators/change-sketch.js';
import type { Finding } from '../../operators/parallel-detect/index.js';
import type { InferenceEvent } from '../../schemas/index.js';

/** The detector name of the sketch's findings and mentions. */
export const SKETCH_DETECTOR = 'sketch-cusum';

/**
 * The sketch's transform per InferenceEvent field: log for positive quantities, logit for
 * confidence (a probability), auto for the prediction (a model's output value: a probability for a
 * classifier, read on the logit scale where its values lie in [0, 1]; any number for a regressor),
 * identity for features.
 */
export function sketchTransformOf(field: string): FieldTransform {
  if (field === 'latency_ms' || field === 'input_tokens' || field === 'output_tokens') return 'log';
  if (field === 'confidence') return 'logit';
  if (field === 'prediction') return 'auto';
  return 'identity';
}

/** A fast reader of an InferenceEvent field (`features[i]` parsed once, not per record). */
export function sketchFieldReader(field: string): (event: InferenceEvent) => number | undefined {
  const feature = /^features\[(\d+)\]$/.exec(field);
  if (feature !== null) {
    const index = Number(feature[1]);
    return (event) => event.features[index];
  }
  return (event) => {
    const value = (event as unknown as Record<string, unknown>)[field];
    return typeof value === 'number' ? value : undefined;
  };
}

/** Findings of the alarms a record carries as evidence. */
export function sketchFindings(alarms: readonly SketchAlarm[]): Finding[] {
  return alarms.map((alarm) => ({ field: alarm.field, direction: alarm.direction === 'up' ? 'HIGH' : 'LOW', score: alarm.score, detector: SKETCH_DETECTOR, shadow: false }));
}

const EVIDENCE_Z = 0.5;

export class SketchEvidenceGate {
  readonly #perWindow: number;
  readonly #windowMs: number;
  readonly #keepWindows: number;
  readonly #counts = new Map<number, Map<string, number>>();
  /** Alarmed records held back because their window had its evidence already. */
  capped = 0;

  constructor(options: { perWindow: number; windowMs: number; keepWindows?: number }) {
    this.#perWindow = options.perWindow;
    this.#windowMs = options.windowMs;
    this.#keepWindows = options.keepWindows ?? 16;
  }

  /** The alarms this record is evidence of (undefined: none; it goes to the sampler). */
  admit(model: string, segment: string, eventTimeMs: number, alarms: readonly SketchAlarm[]): SketchAlarm[] | undefined {
    let admitted: SketchAlarm[] | undefined;
    const window = Math.floor(eventTimeMs / this.#windowMs);
    for (const alarm of alarms) {
      if (alarm.direction === 'up' ? alarm.z <= EVIDENCE_Z : alarm.z >= -EVIDENCE_Z) continue;
      const counts = this.#countsOf(window);
      const cell = `${model}\u0000${segment}\u0000${alarm.field}\u0000${alarm.direction}`;
      const count = counts.get(cell) ?? 0;
      if (count >= this.#perWindow) {
        this.capped++;
        continue;
      }
      counts.set(cell, count + 1);
      (admitted ??= []).push(alarm);
    }
    return admitted;
  }

  #countsOf(window: number): Map<string, number> {
    let counts = this.#counts.get(window);
    if (counts === undefined) {
      counts = new Map();
      this.#counts.set(window, counts);
      for (const old of this.#counts.keys()) if (old <= window - this.#keepWindows) this.#counts.delete(old);
    }
    return counts;
  }
}
