import { expect } from 'chai';
import fc from 'fast-check';
import { map, timer, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { enrich, type Enriched } from '../../operators/enrich.js';
import { testEnvelope, type Envelope } from '../../core/envelope.js';
import { windowDelayProbe } from '../../operators/window-delay-probe.js';
import { EnrichDelayCounters, EnrichDelayTracker } from '../../topologies/model-monitor/enrich-delay.js';

interface Rec {
  readonly id: string;
  readonly model: string;
}

const WINDOW_MS = 60_000;
const LOOKUP_FRAMES = 10;

/**
 * One warm-up record (its lookup finishes before anything else arrives), then three records of one
 * model whose watermarks race ahead by a window each, as a replay's do while a lookup is under way:
 *   frame 0: w  (t = 1 000,   watermark 0)
 *   frame 20: b (t = 10 000,  watermark 5 000)    window [0, 60 000)
 *   frame 21: c (t = 70 000,  watermark 65 000)   window [60 000, 120 000)
 *   frame 22: d (t = 130 000, watermark 125 000)  window [120 000, 180 000)
 */
function input(cold: (marbles: string, values: Record<string, Envelope<Rec>>) => Observable<Envelope<Rec>>): Observable<Envelope<Rec>> {
  const rec = (id: string, eventTimeMs: number, watermarkMs: number): Envelope<Rec> => testEnvelope({ id, model: 'm1' }, { eventTimeMs, watermarkMs });
  return cold('w 19ms bcd|', { w: rec('w', 1_000, 0), b: rec('b', 10_000, 5_000), c: rec('c', 70_000, 65_000), d: rec('d', 130_000, 125_000) });
}

/** Runs the records through probe → enrich → probe (the tracker counting) in virtual time; returns the counters and what left. */
function run(options: { mode: 'async' | 'batched'; maxCacheEntries: number; fail?: boolean }): { counters: EnrichDelayCounters; tracker: EnrichDelayTracker; out: Enriched<Rec, { owner: string }>[] } {
  const scheduler = new TestScheduler((a, b) => {
    expect(a).to.deep.equal(b);
  });
  const counters = new EnrichDelayCounters();
  const tracker = new EnrichDelayTracker({ counters, maxTrackedEvents: 100 });
  const probe = windowDelayProbe({ windowSizeMs: WINDOW_MS });
  const out: Enriched<Rec, { owner: string }>[] = [];
  scheduler.run(({ cold, flush }) => {
    input(cold)
      .pipe(
        probe.enter<Rec>(),
        enrich<Rec, { owner: string }>({
          keyOf: (r) => r.model,
          lookup: () => timer(LOOKUP_FRAMES).pipe(map(() => {
            if (options.fail) throw Object.assign(new Error('registry down'), { retriable: false });
            return { owner: 'team' };
          })),
          mode: options.mode,
          batchWindowMs: 0,
          maxCacheEntries: options.maxCacheEntries,
          scheduler,
        }),
        probe.leave<Enriched<Rec, { owner: string }>>((envelope, delay) => tracker.left(envelope.value.record.id, delay, envelope.value.status === 'failed')),
      )
      .subscribe((envelope) => out.push(envelope.value));
    flush();
  });
  return { counters, tracker, out };
}

describe('model-monitor enrich-delay: records enrichment delays past their dedup window', () => {
  it('batched enrichment without a cache: records whose window closes during their lookup are counted', () => {
    const { counters, tracker, out } = run({ mode: 'batched', maxCacheEntries: 0 });
    expect(out.map((e) => e.record.id)).to.deep.equal(['w', 'b', 'c', 'd']);
    // b and c wait behind one batch each while d's watermark (125 000) closes [0, 60 000) and [60 000, 120 000).
    expect(counters).to.include({ delayedPastWindow: 2, lateBeforeEnrich: 0, failed: 0 });
    tracker.mention(['x', 'c']);
    tracker.mention(['w']);
    expect(counters).to.include({ affectedMentions: 1, mentionsWithDelayedEvidence: 1, mentionsWithFailedEvidence: 0 });
  });

  it('async + LRU with a warm cache: hits leave at once, nothing is delayed', () => {
    const { counters, out } = run({ mode: 'async', maxCacheEntries: 100 });
    expect(out.map((e) => e.status)).to.deep.equal(['fetched', 'hit', 'hit', 'hit']);
    expect(counters).to.include({ delayedPastWindow: 0, lateBeforeEnrich: 0, failed: 0 });
  });

  it('async without a cache waits for every lookup, so the same records are delayed: the cache is what recovers them', () => {
    expect(run({ mode: 'async', maxCacheEntries: 0 }).counters.delayedPastWindow).to.equal(2);
  });

  it('a lookup that fails for good counts as failed, and so does a mention it reached', () => {
    const { counters, tracker, out } = run({ mode: 'batched', maxCacheEntries: 0, fail: true });
    expect(out.every((e) => e.status === 'failed')).to.equal(true);
    expect(counters.failed).to.equal(4);
    tracker.mention(['w']);
    expect(counters).to.include({ affectedMentions: 1, mentionsWithFailedEvidence: 1 });
  });

  it('the probe\'s verdicts map to the counters: late on entry is not delayed; a failed record is remembered as failed, not delayed', () => {
    const counters = new EnrichDelayCounters();
    const tracker = new EnrichDelayTracker({ counters, maxTrackedEvents: 100 });
    tracker.left('old', 'late-on-entry', false);
    tracker.left('slow', 'delayed', false);
    tracker.left('both', 'delayed', true);
    tracker.left('unprobed', undefined, false);
    expect(counters).to.include({ delayedPastWindow: 2, lateBeforeEnrich: 1, failed: 1 });
    tracker.mention(['both']);
    tracker.mention(['slow', 'unprobed']);
    expect(counters).to.include({ affectedMentions: 2, mentionsWithDelayedEvidence: 1, mentionsWithFailedEvidence: 1 });
  });

  it('property: a mention is affected exactly when one of its evidence ids was delayed or failed', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom<'in-time' | 'delayed' | 'late-on-entry' | undefined>('in-time', 'delayed', 'late-on-entry', undefined), fc.boolean()), { maxLength: 50 }), fc.array(fc.nat({ max: 60 }), { maxLength: 10 }), (records, evidence) => {
        const counters = new EnrichDelayCounters();
        const tracker = new EnrichDelayTracker({ counters, maxTrackedEvents: 100 });
        records.forEach(([delay, failed], i) => tracker.left(String(i), delay, failed));
        tracker.mention(evidence.map(String));
        const affected = evidence.some((i) => i < records.length && (records[i]![0] === 'delayed' || records[i]![1]));
        expect(counters.affectedMentions).to.equal(affected ? 1 : 0);
        expect(counters.failed).to.equal(records.filter(([, failed]) => failed).length);
      }),
    );
  });
});
