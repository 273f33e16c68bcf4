/** The detect and apply-thresholds steps: per-key detectors over the lanes, then the registry's thresholds (noting the background rate). */
import { tap, type Observable } from 'rxjs';
import type { BackgroundObservation } from '../../../operators/background-rate.js';
import { perKeyDetector, type Finding, type RecordDetector } from '../../../operators/parallel-detect/index.js';
import { parallelDetect, type Detection } from '../../../operators/parallel-detect.js';
import type { Envelope } from '../../../core/envelope.js';
import { mapRecords, operatorOf, withContext, type StepOperator } from '../../../runtime/topology.js';
import type { MonitoredEvent } from '../probe.js';
import { sketchFindings } from '../sketch-evidence.js';
import type { MonitorContext } from './context.js';

/**
 * The sampled detectors, made to skip the sketch's evidence records: those passed the sampler outside
 * the budget because they are alarmed, so a baseline learnt from them would be biased (and the
 * detectors would score the same alarm twice). With no detector (`MODEL_MONITOR_DETECTORS=none`) a
 * detector that finds nothing keeps the step and its changelog in place.
 */
function sampledDetectors(detectors: readonly RecordDetector<MonitoredEvent>[]): RecordDetector<MonitoredEvent>[] {
  if (detectors.length === 0) {
    return [{ name: 'none', fields: [], shadow: false, update: () => [], snapshot: () => ({}), restore: () => undefined }];
  }
  return detectors.map((detector) => ({
    name: detector.name,
    fields: detector.fields,
    shadow: detector.shadow,
    update: (record, eventTimeMs) => (record.monitor.arm === 'sketch' ? [] : detector.update(record, eventTimeMs)),
    snapshot: () => detector.snapshot(),
    restore: (state) => detector.restore(state),
  }));
}

/** Runs the configured detectors per model × segment × field; a detector that throws dead-letters the record. */
export function detectStep({ config, probe, ownThreshold }: MonitorContext): StepOperator<Envelope<MonitoredEvent>, Envelope<Detection<MonitoredEvent>>> {
  return withContext((context) =>
    parallelDetect<MonitoredEvent>({
      detectors: sampledDetectors(config.detectors.map((name) => perKeyDetector<MonitoredEvent>({
          detector: name,
          fields: config.fields,
          threshold: ownThreshold.get(name)!,
          // A rare segment is scored against its model's baseline until it has its own.
          fallbackKeyOf: (event) => event.model_id,
          fallbackUntilPoints: config.segmentWarmupPoints,
        }))),
      concurrency: config.detectConcurrency,
      onFailure: 'dead-letter',
      deadLetter: (failure) => context.deadLetter(failure.envelope, failure.error),
      step: context.stepName,
      counters: probe.detect,
      meter: context.meter,
      state: context.state,
    }),
  );
}

/** What the background rate learns from a detection: its model × segment and the live findings' field × direction. */
export function backgroundObservation(detection: Detection<MonitoredEvent>): BackgroundObservation | undefined {
  const { event } = detection;
  // Evidence of a sketch alarm passed the sampler outside the budget: it is not a sample, so the
  // sampled detectors' background must not learn from it.
  if (event.monitor.arm === 'sketch') return undefined;
  return { key: `${event.model_id}|${event.segment}`, signals: detection.findings.filter((finding) => !finding.shadow).map((finding) => `${finding.field}|${finding.direction}`) };
}

/**
 * Keeps the findings that reach the registry's threshold, then notes the background rate and feeds
 * the bandit. A sketch evidence record gets its alarms as findings and teaches neither.
 */
export function applyThresholdsStep(ctx: MonitorContext): StepOperator<Envelope<Detection<MonitoredEvent>>, Envelope<Detection<MonitoredEvent>>> {
  const { probe } = ctx;
  const atThreshold = (detection: Detection<MonitoredEvent>): Detection<MonitoredEvent> => {
    const { monitor } = detection.event;
    const findings: Finding[] = detection.findings.filter((finding) => finding.score >= ctx.thresholdOf(monitor.thresholds, finding.field, finding.detector));
    if (monitor.arm === 'sketch') return { ...detection, findings: [...findings, ...sketchFindings(monitor.sketchAlarms)] };
    return findings.length === detection.findings.length ? detection : { ...detection, findings };
  };
  const teachBandit = ({ value: detection }: Envelope<Detection<MonitoredEvent>>): void => {
    const { arm } = detection.event.monitor;
    // A sketch evidence record counts as found, outside the budget; the bandit's yields do not learn from it.
    const found = arm === 'sketch' || detection.findings.some((finding) => !finding.shadow);
    if (found) probe.findingsByArm.set(arm, (probe.findingsByArm.get(arm) ?? 0) + 1);
    if (arm !== 'sketch') ctx.feedbackSink?.next({ arm, mentions: found ? 1 : 0, cost: 1 });
  };
  return withContext((context) => (source: Observable<Envelope<Detection<MonitoredEvent>>>) =>
    source.pipe(
      // A record whose thresholds cannot be applied goes to the dead-letter topic with the reason.
      operatorOf(mapRecords(atThreshold), context),
      ctx.background.note(backgroundObservation),
      tap(teachBandit),
    ),
  );
}
