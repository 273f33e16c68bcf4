/**
 * The scoring step: with the sketch (`sketch`), its suspicion of the record's key is the adaptive
 * arm's score and its alarms travel with the record; without it (`preliminary-score`), a cheap robust
 * |z| per model × segment × field, against the model's moments while the segment warms up
 * (operators/robust-z-score.ts).
 */
import { map, type OperatorFunction } from 'rxjs';
import { changeSketch } from '../../../operators/change-sketch.js';
import { robustZScore } from '../../../operators/robust-z-score.js';
import { withValue, type Envelope } from '../../../core/envelope.js';
import { withContext, type StepOperator } from '../../../runtime/topology.js';
import type { InferenceEvent } from '../../../schemas/index.js';
import type { ScoredEvent } from '../probe.js';
import { sketchFieldReader, sketchTransformOf } from '../sketch-evidence.js';
import type { MonitorContext } from './context.js';

/** The step's name: state snapshots and metrics are keyed by it. */
export function scoreStepName(ctx: MonitorContext): 'sketch' | 'preliminary-score' {
  return ctx.config.sketch ? 'sketch' : 'preliminary-score';
}

/** Scores every record for the samplers (see the file's comment). */
export function scoreStep({ config, probe, recalibration }: MonitorContext): StepOperator<Envelope<InferenceEvent>, Envelope<ScoredEvent>> {
  return withContext((context): OperatorFunction<Envelope<InferenceEvent>, Envelope<ScoredEvent>> => {
    if (!config.sketch) {
      return (source) =>
        source.pipe(
          robustZScore<InferenceEvent>({
            keyOf: (event) => `${event.model_id}\u0000${event.segment}`,
            fallbackKeyOf: (event) => event.model_id,
            // A field listed twice would score the same |z| twice: once is the same score.
            fields: [...new Set(config.fields)].map((field) => ({ name: field, valueOf: sketchFieldReader(field) })),
          }),
          map((envelope) => withValue(envelope, { event: envelope.value.record, preliminaryScore: envelope.value.score, alarms: [] })),
        );
    }
    return (source) =>
      source.pipe(
        changeSketch<InferenceEvent>({
          keyOf: (event) => `${event.model_id}\u0000${event.segment}`,
          fallbackKeyOf: (event) => event.model_id,
          fields: config.fields.map((field) => ({ name: field, valueOf: sketchFieldReader(field), transform: sketchTransformOf(field) })),
          level: { falseAlarmsPerHour: config.falseAlarmsPerHour },
          maxKeys: config.sketchMaxKeys,
          relativeToFallback: config.sketchRelative,
          peerWindowMs: config.sketchPeerWindowMs,
          minEpisodeMs: config.sketchMinEpisodeMs,
          levelScales: recalibration,
          state: context.state,
          counts: (counts, level) => (probe.sketch = { ...counts, level }),
        }),
        map((envelope) => withValue(envelope, { event: envelope.value.record, preliminaryScore: 3 * envelope.value.suspicion, alarms: envelope.value.alarms })),
      );
  });
}
