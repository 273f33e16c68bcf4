/**
 * The fast lane: a share of the mentions (default 7 %) also goes to `mentions.review`, for humans to
 * label at once. Which ones: those whose score is closest to their threshold — the borderline calls,
 * where a label teaches the detector most. Mentions are gathered for `batchMs` (a watermark closing
 * windows emits a burst at once), the batch's quota is share × size with the remainder carried over,
 * and the quota goes to the mentions nearest their threshold. A mention sent to both outputs is
 * split with `fanOut`: its input records settle when both copies are acknowledged.
 *
 * State: the current batch (bounded by `maxBatch`) and the carried-over fraction of a mention.
 * Delivery: every mention is emitted once to `mentions`, and the chosen ones once more to `review`;
 * order within a batch is kept.
 */
import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import { fanOut, type Envelope } from '../../core/envelope.js';
import type { RoutedEnvelope } from '../../runtime/topology.js';
import type { Mention } from '../../schemas/index.js';

export interface ReviewLaneOptions {
  /** Share of mentions copied to the review output, [0, 1]. */
  readonly share: number;
  /** The threshold a mention's score is compared with. */
  readonly thresholdOf: (mention: Mention) => number;
  /** Gathering time, ms. */
  readonly batchMs: number;
  /** Mentions per batch at most (a full batch is decided at once). Default 1000. */
  readonly maxBatch?: number;
  readonly mainOutput?: string;
  readonly reviewOutput?: string;
  readonly scheduler?: SchedulerLike;
  /** Told how many of a batch went to review. */
  readonly onBatch?: (size: number, reviewed: number) => void;
  /** Told of each mention copied to the review output (the fast lane). */
  readonly onReview?: (mention: Mention) => void;
}

export function reviewLane(options: ReviewLaneOptions): OperatorFunction<Envelope<Mention>, RoutedEnvelope<Mention>> {
  if (!(options.share >= 0 && options.share <= 1)) throw new RangeError(`reviewLane: share must be in [0, 1], got ${options.share}`);
  const maxBatch = options.maxBatch ?? 1000;
  const main = options.mainOutput ?? 'mentions';
  const review = options.reviewOutput ?? 'review';
  const scheduler = options.scheduler ?? asyncScheduler;
  return (source) =>
    new Observable<RoutedEnvelope<Mention>>((subscriber) => {
      let batch: Envelope<Mention>[] = [];
      let credit = 0;
      let timer: Subscription | undefined;

      const flush = (): void => {
        timer?.unsubscribe();
        timer = undefined;
        if (batch.length === 0) return;
        const current = batch;
        batch = [];
        credit += options.share * current.length;
        const quota = Math.min(current.length, Math.floor(credit + 1e-9));
        credit -= quota;
        const chosen = new Set(
          current
            .map((envelope, i) => ({ i, distance: Math.abs(envelope.value.score - options.thresholdOf(envelope.value)) }))
            .sort((a, b) => a.distance - b.distance || a.i - b.i)
            .slice(0, quota)
            .map(({ i }) => i),
        );
        options.onBatch?.(current.length, chosen.size);
        current.forEach((envelope, i) => {
          if (!chosen.has(i)) {
            subscriber.next({ ...envelope, output: main });
            return;
          }
          options.onReview?.(envelope.value);
          const reviewCopy: Mention = { ...envelope.value, attributes: { ...envelope.value.attributes, review_lane: 'true' } };
          const [toMain, toReview] = fanOut(envelope, [envelope.value, reviewCopy]);
          subscriber.next({ ...toMain!, output: main });
          subscriber.next({ ...toReview!, output: review });
        });
      };

      const subscription = source.subscribe({
        next: (envelope) => {
          batch.push(envelope);
          if (batch.length >= maxBatch) flush();
          else timer ??= scheduler.schedule(() => flush(), options.batchMs);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          flush();
          subscriber.complete();
        },
      });
      return () => {
        timer?.unsubscribe();
        subscription.unsubscribe();
      };
    });
}
