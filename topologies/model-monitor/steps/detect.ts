/** The detect and apply-thresholds steps: per-key detectors over the lanes, then the registry's thresholds. */
import { perKeyDetector, type Finding, type RecordDetector } from '../../../operators/parallel-detect/index.js';
import { parallelDetect, type Detection } from '../../../operators/parallel-detect.js';
import type { Envelope } from '../../../core/envelope.js';
import { mapRecords, withContext, type StepOperator } from '../../../runtime/topology.js';
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

/**
 * Keeps the findings that reach the registry's threshold; feeds the background rate and the bandit.
 * A sketch evidence record gets its alarms as findings and teaches neither.
 */
export function applyThresholdsStep(ctx: MonitorContext): StepOperator<Envelope<Detection<MonitoredEvent>>, Envelope<Detection<MonitoredEvent>>> {
  const { probe } = ctx;
  return mapRecords((detection: Detection<MonitoredEvent>) => {
    const { monitor } = detection.event;
    const findings: Finding[] = detection.findings.filter((finding) => finding.score >= ctx.thresholdOf(monitor.thresholds, finding.field, finding.detector));
    const found = findings.some((finding) => !finding.shadow);
    if (monitor.arm === 'sketch') {
      // Evidence of a sketch alarm, outside the budget: neither the background rate of the
      // sampled detectors nor the bandit's yields may learn from it (it is not a sample).
      probe.findingsByArm.set(monitor.arm, (probe.findingsByArm.get(monitor.arm) ?? 0) + 1);
      return { ...detection, findings: [...findings, ...sketchFindings(monitor.sketchAlarms)] };
    }
    ctx.background.note(detection.event.model_id, detection.event.segment, detection.event.ts, findings.filter((finding) => !finding.shadow));
    if (found) probe.findingsByArm.set(monitor.arm, (probe.findingsByArm.get(monitor.arm) ?? 0) + 1);
    ctx.feedbackSink?.next({ arm: monitor.arm, mentions: found ? 1 : 0, cost: 1 });
    return findings.length === detection.findings.length ? detection : { ...detection, findings };
  });
}
