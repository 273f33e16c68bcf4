/**
 * What enrichment delays past its dedup window or drops, counted per run (issue #5's enrichment goal:
 * "async + LRU recovers ≥ 85% of the mentions that batched enrichment delays past their window or
 * drops"). Counting only: nothing here changes what the topology emits.
 *
 * **Delayed past its window, in event time.** A sampled record of event time `t` belongs to the dedup
 * window `[start, end)` = the tumbling window of `dedupWindowMs` that holds `t` (windowedDedup's own
 * window). The *input watermark* is the highest watermark of any record that has entered enrichment
 * so far — how far event time had got upstream of the enrich step. The record is delayed past its
 * window when its window was still open when it entered enrichment (input watermark < end − 1) and
 * had closed when its enrichment finished (input watermark ≥ end − 1): windowedDedup closes a window,
 * and treats its records as late, once the watermark reaches end − 1 (mention-table.ts, `isLate`).
 * Records whose window had closed before enrichment (`lateBeforeEnrich`) are not enrichment's doing.
 *
 * In model-monitor such a record is not dropped: the EventTimeHold between hold-watermark and
 * release-watermark holds dedup's watermark below it, so its window waits for it — the record (and
 * every window after it) reaches `mentions` late instead of never. Without the hold it would be a late
 * record at dedup and dropped. Either way it is what the goal calls "delayed past its window".
 *
 * **Dropped.** model-monitor enriches with `onFailure: 'flag'`: a record whose lookup failed for good
 * (errors after retries, timeouts, an open circuit) goes on unenriched with status 'failed' and is
 * scored against the default threshold, without the registry's. Those are counted as `failed`.
 *
 * **Mentions.** The event ids of delayed and failed records are remembered (bounded LRU); a mention
 * that reaches the output with one of them among its evidence ids counts as affected — the mentions
 * those records contributed to. windowedDedup lists only a mention's first `maxEvidenceIds` (10)
 * events, so this is a lower bound for mentions of more events than that.
 *
 * State: the input watermark, one WeakMap entry per record inside enrichment (gone with its envelope),
 * and at most `maxTrackedEvents` event ids.
 */
import { LRUCache } from 'lru-cache';
import type { Envelope } from '../../core/envelope.js';
import { tumblingWindowFor } from '../../core/event-time/windows.js';

/** Counters of one run; the run report carries them as `enrich_delay`. */
export class EnrichDelayCounters {
  /** Records whose dedup window closed (in event time) while their enrichment was under way. */
  delayedPastWindow = 0;
  /** Records whose dedup window had already closed when they entered enrichment (not counted as delayed). */
  lateBeforeEnrich = 0;
  /** Records whose enrichment failed for good (flagged 'failed', scored without the registry's thresholds). */
  failed = 0;
  /** Mentions emitted with at least one delayed or failed record among their evidence. */
  affectedMentions = 0;
  /** Of those, mentions with a delayed record among their evidence. */
  mentionsWithDelayedEvidence = 0;
  /** Of those, mentions with a failed record among their evidence. */
  mentionsWithFailedEvidence = 0;
}

export interface EnrichDelayOptions {
  /** The dedup window, ms (model-monitor's `dedupWindowMs`). */
  readonly windowSizeMs: number;
  readonly counters: EnrichDelayCounters;
  /** Event ids of delayed/failed records remembered for mentions. Default 200 000. */
  readonly maxTrackedEvents?: number;
}

type Affect = 'delayed' | 'failed';

export class EnrichDelayTracker {
  readonly #windowSizeMs: number;
  readonly #counters: EnrichDelayCounters;
  /** Per record inside enrichment (keyed by its settlement, which enrich passes on): was its window open at entry. */
  readonly #openAtEntry = new WeakMap<object, boolean>();
  readonly #affected: LRUCache<string, Affect>;
  #inputWatermarkMs = -Infinity;

  constructor(options: EnrichDelayOptions) {
    if (!Number.isSafeInteger(options.windowSizeMs) || options.windowSizeMs < 1) {
      throw new RangeError(`EnrichDelayTracker: windowSizeMs must be an integer ≥ 1, got ${String(options.windowSizeMs)}`);
    }
    this.#windowSizeMs = options.windowSizeMs;
    this.#counters = options.counters;
    this.#affected = new LRUCache({ max: options.maxTrackedEvents ?? 200_000 });
  }

  /** The highest watermark that entered enrichment. */
  get inputWatermarkMs(): number {
    return this.#inputWatermarkMs;
  }

  /** A record enters enrichment. */
  entered(envelope: Envelope<unknown>): void {
    if (envelope.watermarkMs > this.#inputWatermarkMs) this.#inputWatermarkMs = envelope.watermarkMs;
    this.#openAtEntry.set(envelope.settlement, !this.#closed(envelope.eventTimeMs));
  }

  /** A record's enrichment finished (`failed`: its lookup failed for good); `eventId` names it in mentions. */
  left(envelope: Envelope<unknown>, eventId: string, failed: boolean): void {
    const openAtEntry = this.#openAtEntry.get(envelope.settlement);
    this.#openAtEntry.delete(envelope.settlement);
    if (failed) {
      this.#counters.failed++;
      this.#affected.set(eventId, 'failed');
    }
    if (openAtEntry === undefined) return; // did not pass entered(): nothing to compare
    if (!openAtEntry) this.#counters.lateBeforeEnrich++;
    else if (this.#closed(envelope.eventTimeMs)) {
      this.#counters.delayedPastWindow++;
      if (!failed) this.#affected.set(eventId, 'delayed');
    }
  }

  /** A mention reached the output with these evidence ids. */
  mention(evidenceEventIds: readonly string[]): void {
    let delayed = false;
    let failed = false;
    for (const id of evidenceEventIds) {
      const affect = this.#affected.get(id);
      if (affect === 'delayed') delayed = true;
      else if (affect === 'failed') failed = true;
    }
    if (delayed) this.#counters.mentionsWithDelayedEvidence++;
    if (failed) this.#counters.mentionsWithFailedEvidence++;
    if (delayed || failed) this.#counters.affectedMentions++;
  }

  /** Has the input watermark closed the dedup window of this event time (windowedDedup's `isLate` rule)? */
  #closed(eventTimeMs: number): boolean {
    return this.#inputWatermarkMs >= tumblingWindowFor(eventTimeMs, { sizeMs: this.#windowSizeMs }).endMs - 1;
  }
}
