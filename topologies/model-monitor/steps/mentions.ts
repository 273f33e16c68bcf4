/**
 * The steps from detections to mentions: dedup (event-time windows into Mentions), min-evidence (a
 * mention must stand out from its key's background), annotate (owner, threshold, first evidence),
 * label-join (every mention awaits its label) and review-lane (the borderline ones copied for review).
 */
import { Observable, type OperatorFunction } from 'rxjs';
import type { Detection } from '../../../operators/parallel-detect.js';
import { windowedDedup } from '../../../operators/windowed-dedup.js';
import type { Envelope } from '../../../core/envelope.js';
import { assertSnapshotVersion } from '../../../core/state.js';
import { mapRecords, withContext, type RoutedEnvelope, type StepOperator } from '../../../runtime/topology.js';
import type { Mention } from '../../../schemas/index.js';
import type { MonitoredEvent } from '../probe.js';
import { reviewLane } from '../review-lane.js';
import { SKETCH_DETECTOR } from '../sketch-evidence.js';
import type { MonitorContext } from './context.js';

/** Findings grouped into Mentions per model × segment × field × direction and event-time window. */
export function dedupStep({ config, probe }: MonitorContext): StepOperator<Envelope<Detection<MonitoredEvent>>, Envelope<Mention>> {
  return withContext((context) => windowedDedup<MonitoredEvent>({ mode: config.dedupMode, window: { kind: 'tumbling', sizeMs: config.dedupWindowMs }, state: context.state }, probe.dedup));
}

/**
 * One outlying event is what heavy-tailed traffic does all the time; an incident repeats, more often
 * than its model × segment's background of outliers (operators/background-rate.ts, noted by
 * apply-thresholds). A sketch alarm is sequential evidence already (its level holds the false-alarm
 * budget): the Poisson test against the sampled detectors' background is for their single points.
 */
export function minEvidenceStep({ background }: MonitorContext): StepOperator<Envelope<Mention>, Envelope<Mention>> {
  return background.keepSurprising((mention: Mention) =>
    (mention.attributes['detectors'] ?? '').split(',').includes(SKETCH_DETECTOR)
      ? undefined
      : { key: `${mention.model_id}|${mention.segment}`, signal: `${mention.field}|${mention.direction}`, windowStartMs: mention.window_start, count: mention.event_count },
  );
}

/** Adds the threshold, the owner and when the first evidence arrived (and its event time) to each mention. */
export function annotateStep(ctx: MonitorContext): StepOperator<Envelope<Mention>, Envelope<Mention>> {
  return mapRecords((mention: Mention): Mention => {
    const metadata = ctx.metadataByModel.get(mention.model_id);
    const first = mention.evidence_event_ids.map((id) => ctx.arrivals.get(id)).find((a) => a !== undefined);
    const attributes: Record<string, string> = { ...mention.attributes, threshold: String(ctx.thresholdOf(metadata?.thresholds, mention.field, mention.detector)) };
    if (metadata?.owner !== undefined) attributes['owner'] = metadata.owner;
    if (first !== undefined) {
      attributes['first_evidence_arrived_at'] = String(first.arrivedAtMs);
      attributes['first_evidence_ts'] = String(first.ts);
    }
    ctx.probe.mentions++;
    ctx.enrichDelay?.mention(mention.evidence_event_ids);
    return { ...mention, attributes };
  });
}

/**
 * The label-join step: registers every mention that passes (what its label will move: model, field,
 * whether a sketch alarm made it) and keeps the join and the level factors in the step's snapshot
 * (`labelJoin`, version 1), so a restart keeps the mentions awaiting a label, the ids already applied
 * and the levels. Passes every mention on unchanged.
 */
export function labelJoinStep({ probe, recalibration }: MonitorContext): StepOperator<Envelope<Mention>, Envelope<Mention>> {
  const OP = 'labelJoin';
  const join = probe.labelJoin;
  return withContext((context): OperatorFunction<Envelope<Mention>, Envelope<Mention>> => (source) =>
    new Observable<Envelope<Mention>>((subscriber) => {
      context.state?.attach(
        OP,
        () => ({ operator: OP, version: 1, join: join.snapshot(), levels: recalibration.snapshot() }),
        (snapshot) => {
          assertSnapshotVersion(snapshot, OP, 1);
          // Levels first: labels held in this process are joined by the join's restore and move them.
          recalibration.restore(snapshot['levels'] as Record<string, unknown>);
          join.restore(snapshot['join'] as Record<string, unknown>);
        },
      );
      return source.subscribe({
        next: (envelope) => {
          const mention = envelope.value;
          join.mention(mention.mention_id, { model: mention.model_id, field: mention.field, sketch: (mention.attributes['detectors'] ?? mention.detector).split(',').includes(SKETCH_DETECTOR) });
          subscriber.next(envelope);
        },
        error: (error) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    }));
}

/** Routes every mention to `mentions` and copies the borderline share to `review` (mentions.review), batched. */
export function reviewStep({ config, probe, ownThreshold }: MonitorContext): StepOperator<Envelope<Mention>, RoutedEnvelope> {
  return reviewLane({
    share: config.reviewShare,
    batchMs: config.reviewBatchMs,
    thresholdOf: (mention) => Number(mention.attributes['threshold'] ?? ownThreshold.get(mention.detector) ?? 1),
    mainOutput: 'mentions',
    reviewOutput: 'review',
    onBatch: (_, reviewed) => (probe.reviewed += reviewed),
    onReview: (mention) => probe.labelJoin.fastLane(mention.mention_id),
  });
}
