/**
 * The sample step: the budgeted sampler (one strategy, or the bandit over uniform · stratified ·
 * adaptive), with the sketch's alarmed records let through outside the budget as evidence.
 */
import { Observable, Subject, type OperatorFunction } from 'rxjs';
import { adaptiveSample, type Sampled, type SamplingStrategy } from '../../../operators/adaptive-sample.js';
import { banditBudget, type ArmFeedback, type BanditArm } from '../../../operators/bandit-budget.js';
import { dropRecord, withValue, type Envelope } from '../../../core/envelope.js';
import type { OperatorStateHandle } from '../../../core/state.js';
import { withContext, type StepOperator } from '../../../runtime/topology.js';
import type { ScoredEvent } from '../probe.js';
import { SketchEvidenceGate } from '../sketch-evidence.js';
import type { MonitorContext } from './context.js';

type SampleOperator = OperatorFunction<Envelope<ScoredEvent>, Envelope<Sampled<ScoredEvent>>>;

/** Sampling weight from a preliminary |z|: 1 at 3σ, rising with the square; the sampler clamps it. */
export const samplingWeight = (z: number): number => (z / 3) ** 2;

/** The sampling strategies by arm name. */
function strategies(): Record<'uniform' | 'stratified' | 'adaptive', SamplingStrategy<ScoredEvent>> {
  const stratumOf = (value: ScoredEvent): string => `${value.event.model_id}|${value.event.segment}`;
  return {
    uniform: { kind: 'uniform-reservoir' },
    stratified: { kind: 'stratified', stratumOf, allocation: 'congressional', maxStrata: 512 },
    // One reservoir over all keys: a high preliminary score anywhere outranks normal traffic everywhere.
    adaptive: { kind: 'adaptive', scoreOf: (value) => samplingWeight(value.preliminaryScore) },
  };
}

/**
 * Epochs the sampler keeps open: OPEN_AHEAD_MS of event time ahead of the watermark. Partitions are
 * consumed in batches, so event time runs ahead on one partition while the watermark waits for the
 * slowest, and one batch of a quiet partition can span hours of event time (source alignment acts
 * between batches, not within one; at 10 records/s a batch of 5 000 spans 8 minutes per partition,
 * and a replay's first fetch can span the whole topic). An epoch closed early by the count turns every
 * later record of it into a late record, lost to the sample and to the evidence. What the open
 * epochs hold is bounded by the records in flight (the source's maxUnsettled), not by their count.
 */
const OPEN_AHEAD_MS = 6 * 3_600_000;
function openEpochs(epochMs: number): number {
  return Math.min(10_000, Math.max(100, Math.ceil(OPEN_AHEAD_MS / epochMs)));
}

/** The budgeted sampler of MODEL_MONITOR_SAMPLING; the bandit's feedback subject goes to `ctx.feedbackSink`. */
function sampler(ctx: MonitorContext, state?: OperatorStateHandle): SampleOperator {
  const { config, probe, random } = ctx;
  const byArm = strategies();
  const lateRecords = (envelope: Envelope<ScoredEvent>): void => {
    probe.lateAtSampler++;
    dropRecord(envelope);
  };
  if (config.sampling !== 'bandit') {
    return adaptiveSample<ScoredEvent>({
      strategy: byArm[config.sampling],
      budget: { fraction: config.sampleFraction },
      windowMs: config.epochMs,
      maxHeldRecords: 200_000,
      maxOpenWindows: openEpochs(config.epochMs),
      lateRecords,
      label: config.sampling,
      random,
      state,
    });
  }
  const feedback = new Subject<ArmFeedback>();
  ctx.feedbackSink = feedback;
  const arms: BanditArm<ScoredEvent>[] = (['uniform', 'stratified', 'adaptive'] as const).map((name) => ({ name, strategy: byArm[name] }));
  return banditBudget<ScoredEvent>({
    arms,
    budget: { fraction: config.sampleFraction },
    epochMs: config.epochMs,
    feedback,
    policy: config.banditPolicy,
    discount: config.banditDiscount,
    maxHeldRecords: 200_000,
    maxOpenEpochs: openEpochs(config.epochMs),
    lateRecords,
    random,
    state,
    onAllocation: (allocation) => {
      probe.allocations.push(allocation);
      for (const arm of allocation.arms) probe.chosenByArm.set(arm.arm, (probe.chosenByArm.get(arm.arm) ?? 0) + arm.records);
      if (probe.allocations.length > 10_000) probe.allocations.shift();
    },
  });
}

/**
 * Alarmed records of the sketch pass the sampler outside its budget, a few per model × segment ×
 * field × direction and dedup window (sketch-evidence.ts), at once; every other record meets the
 * budget. Downstream, dedup's windows close by the held-back watermark, so evidence that runs ahead
 * of the sampler's epochs waits there like any record.
 */
export function sampleStep(ctx: MonitorContext): StepOperator<Envelope<ScoredEvent>, Envelope<Sampled<ScoredEvent>>> {
  const { config, probe } = ctx;
  return withContext((context): SampleOperator => (source) =>
    new Observable<Envelope<Sampled<ScoredEvent>>>((subscriber) => {
      const gate = new SketchEvidenceGate({ perWindow: config.sketchEvidencePerWindow, windowMs: config.dedupWindowMs });
      const toSampler = new Subject<Envelope<ScoredEvent>>();
      const sampled = toSampler.pipe(sampler(ctx, context.state)).subscribe(subscriber);
      const subscription = source.subscribe({
        next: (envelope) => {
          const { event, alarms } = envelope.value;
          const evidence = alarms.length === 0 ? undefined : gate.admit(event.model_id, event.segment, event.ts, alarms);
          probe.sketchEvidenceCapped = gate.capped;
          if (evidence === undefined) {
            toSampler.next(envelope);
            return;
          }
          probe.sketchEvidence++;
          subscriber.next(withValue(envelope, { record: { ...envelope.value, evidence }, inclusionWeight: 1, strategy: 'sketch' }));
        },
        error: (error) => toSampler.error(error),
        complete: () => toSampler.complete(),
      });
      return () => {
        subscription.unsubscribe();
        sampled.unsubscribe();
      };
    }));
}
