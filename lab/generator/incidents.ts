/**
 * The incidents the lab generator injects, and what each does to an event. An incident is one field
 * of one model's segment going wrong for a stretch of event time; the ground truth names it
 * `{model_id, segment, field, direction, start, end}` like the evaluator's matching rule does.
 */
import type { InferenceEvent } from '../../schemas/index.js';
import type { SeededRandom } from '../../core/random.js';

export type IncidentKind = 'latency-shift' | 'latency-spikes' | 'confidence-drop' | 'prediction-shift' | 'feature-drift' | 'token-blowup';
export const INCIDENT_KINDS: readonly IncidentKind[] = ['latency-shift', 'latency-spikes', 'confidence-drop', 'prediction-shift', 'feature-drift', 'token-blowup'];

export interface GroundTruthIncident {
  readonly id: string;
  /** An injected kind, or `nab-window`: a labelled anomaly window of a replayed NAB series (nab-replay.ts). */
  readonly kind: IncidentKind | 'nab-window';
  readonly model_id: string;
  readonly segment: string;
  /** `latency_ms`, `confidence`, `prediction`, `output_tokens` or `features[i]`. */
  readonly field: string;
  /** SHIFT for a NAB window (NAB's labels say where, not which way). */
  readonly direction: 'HIGH' | 'LOW' | 'SHIFT';
  /** Event time, epoch ms: start inclusive, end exclusive. */
  readonly start: number;
  readonly end: number;
  /** Size of the effect (a factor, an offset or a probability × factor, by kind). */
  readonly magnitude: number;
  /** Share of the incident's events it affects (1 but for spikes). */
  readonly affectedShare: number;
  /** Size in σ of the field's normal noise, for incidents of a stream profile (profiles.ts); absent on the default stream. */
  readonly severity_sigma?: number;
}

/** A mutable copy of the numeric fields an incident can change. */
export interface MutableSignals {
  latency_ms: number;
  confidence: number;
  prediction: number;
  output_tokens: number;
  features: number[];
}

/** Draws the field, direction and magnitude of an incident of `kind`. */
export function drawEffect(kind: IncidentKind, random: SeededRandom, featureCount: number): Pick<GroundTruthIncident, 'field' | 'direction' | 'magnitude' | 'affectedShare'> {
  const between = (low: number, high: number): number => low + (high - low) * random.nextFloat();
  switch (kind) {
    case 'latency-shift':
      return { field: 'latency_ms', direction: 'HIGH', magnitude: between(2, 4), affectedShare: 1 };
    case 'latency-spikes':
      return { field: 'latency_ms', direction: 'HIGH', magnitude: between(6, 15), affectedShare: between(0.2, 0.4) };
    case 'confidence-drop':
      return { field: 'confidence', direction: 'LOW', magnitude: between(0.2, 0.35), affectedShare: 1 };
    case 'prediction-shift': {
      const up = random.nextFloat() < 0.5;
      return { field: 'prediction', direction: up ? 'HIGH' : 'LOW', magnitude: (up ? 1 : -1) * between(1.5, 3), affectedShare: 1 };
    }
    case 'feature-drift': {
      const i = Math.floor(random.nextFloat() * featureCount);
      const up = random.nextFloat() < 0.5;
      return { field: `features[${i}]`, direction: up ? 'HIGH' : 'LOW', magnitude: (up ? 1 : -1) * between(3, 5), affectedShare: 1 };
    }
    case 'token-blowup':
      return { field: 'output_tokens', direction: 'HIGH', magnitude: between(4, 8), affectedShare: 1 };
  }
}

/**
 * The noise of each field in normal traffic (stream.ts): log-latency, confidence, prediction logit, a
 * feature, log output tokens. A profile's incident of severity s moves its field by s of these.
 */
export const FIELD_SIGMA = { logLatency: 0.25, confidence: 0.04, predictionLogit: 1, feature: 1, logOutputTokens: 0.4 } as const;

/**
 * Draws the field, direction and magnitude of an incident of `kind` whose size is `severity` σ of its
 * field's normal noise ({@link FIELD_SIGMA}). Latency spikes hit 20–40 % of the records, each by
 * 2 × severity σ of log-latency (a spike is rare, so it is larger).
 */
export function drawEffectInSigma(kind: IncidentKind, severity: number, random: SeededRandom, featureCount: number): Pick<GroundTruthIncident, 'field' | 'direction' | 'magnitude' | 'affectedShare' | 'severity_sigma'> {
  const between = (low: number, high: number): number => low + (high - low) * random.nextFloat();
  const sign = (): 1 | -1 => (random.nextFloat() < 0.5 ? 1 : -1);
  switch (kind) {
    case 'latency-shift':
      return { field: 'latency_ms', direction: 'HIGH', magnitude: Math.exp(FIELD_SIGMA.logLatency * severity), affectedShare: 1, severity_sigma: severity };
    case 'latency-spikes':
      return { field: 'latency_ms', direction: 'HIGH', magnitude: Math.exp(2 * FIELD_SIGMA.logLatency * severity), affectedShare: between(0.2, 0.4), severity_sigma: severity };
    case 'confidence-drop':
      return { field: 'confidence', direction: 'LOW', magnitude: FIELD_SIGMA.confidence * severity, affectedShare: 1, severity_sigma: severity };
    case 'prediction-shift': {
      const s = sign();
      return { field: 'prediction', direction: s > 0 ? 'HIGH' : 'LOW', magnitude: s * FIELD_SIGMA.predictionLogit * severity, affectedShare: 1, severity_sigma: severity };
    }
    case 'feature-drift': {
      const i = Math.floor(random.nextFloat() * featureCount);
      const s = sign();
      return { field: `features[${i}]`, direction: s > 0 ? 'HIGH' : 'LOW', magnitude: s * FIELD_SIGMA.feature * severity, affectedShare: 1, severity_sigma: severity };
    }
    case 'token-blowup':
      return { field: 'output_tokens', direction: 'HIGH', magnitude: Math.exp(FIELD_SIGMA.logOutputTokens * severity), affectedShare: 1, severity_sigma: severity };
  }
}

/**
 * Applies `incident` to one of its events at `ts`; returns whether it changed it. Feature drift ramps
 * up over the first third of the incident (drift is gradual); the others start at full size.
 */
export function applyIncident(incident: GroundTruthIncident, signals: MutableSignals, ts: number, random: SeededRandom): boolean {
  if (incident.affectedShare < 1 && random.nextFloat() >= incident.affectedShare) return false;
  switch (incident.kind) {
    case 'latency-shift':
    case 'latency-spikes':
      signals.latency_ms *= incident.magnitude;
      return true;
    case 'confidence-drop':
      signals.confidence = Math.max(0, signals.confidence - incident.magnitude);
      return true;
    case 'prediction-shift': {
      const logit = Math.log(signals.prediction / (1 - signals.prediction));
      signals.prediction = 1 / (1 + Math.exp(-(logit + incident.magnitude)));
      return true;
    }
    case 'feature-drift': {
      const i = Number(/\d+/.exec(incident.field)![0]);
      const ramp = Math.min(1, (ts - incident.start) / Math.max(1, (incident.end - incident.start) / 3));
      signals.features[i] = (signals.features[i] ?? 0) + incident.magnitude * ramp;
      return true;
    }
    case 'token-blowup':
      signals.output_tokens *= incident.magnitude;
      return true;
    case 'nab-window':
      return false; // the replayed series carries its own anomalies
  }
}

export type { InferenceEvent };
