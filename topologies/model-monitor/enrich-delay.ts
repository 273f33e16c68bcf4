/**
 * What enrichment delays past its dedup window or drops, counted per run (issue #5's enrichment goal:
 * "async + LRU recovers ≥ 85% of the mentions that batched enrichment delays past their window or
 * drops"), and the mentions those records reached. Counting only: nothing here changes what the
 * topology emits.
 *
 * **Delayed past its window, in event time.** The `windowDelayProbe` operator around enrichment
 * (entered at hold-watermark, left after enrich-model) with the dedup window `dedupWindowMs` says per
 * record whether its window was still open when it entered enrichment and had closed, by the input
 * watermark, when its enrichment finished (`delayedPastWindow`), or had closed before it entered
 * (`lateBeforeEnrich`, not enrichment's doing).
 *
 * In model-monitor such a record is not dropped: the watermarkHold between hold-watermark and
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
 * State: at most `maxTrackedEvents` event ids (the probe holds the rest).
 */
import { LRUCache } from 'lru-cache';
import type { WindowDelay } from '../../operators/window-delay-probe.js';

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
  readonly counters: EnrichDelayCounters;
  /** Event ids of delayed/failed records remembered for mentions. Default 200 000. */
  readonly maxTrackedEvents?: number;
}

type Affect = 'delayed' | 'failed';

export class EnrichDelayTracker {
  readonly #counters: EnrichDelayCounters;
  readonly #affected: LRUCache<string, Affect>;

  constructor(options: EnrichDelayOptions) {
    this.#counters = options.counters;
    this.#affected = new LRUCache({ max: options.maxTrackedEvents ?? 200_000 });
  }

  /**
   * A record's enrichment finished: `delay` is what it did to the record's dedup window (the probe's
   * verdict; undefined when the record was not probed on entry), `failed` whether its lookup failed
   * for good; `eventId` names it in mentions.
   */
  left(eventId: string, delay: WindowDelay | undefined, failed: boolean): void {
    if (failed) {
      this.#counters.failed++;
      this.#affected.set(eventId, 'failed');
    }
    if (delay === 'late-on-entry') this.#counters.lateBeforeEnrich++;
    else if (delay === 'delayed') {
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
}
