import { expect } from 'chai';
import fc from 'fast-check';
import { map, tap, timer, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { enrich, type Enriched } from '../../operators/enrich.js';
import { testEnvelope, type Envelope } from '../../core/envelope.js';
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

/** Runs the records through tracker → enrich → tracker in virtual time; returns the counters and what left. */
function run(options: { mode: 'async' | 'batched'; maxCacheEntries: number; fail?: boolean }): { counters: EnrichDelayCounters; tracker: EnrichDelayTracker; out: Enriched<Rec, { owner: string }>[] } {
  const scheduler = new TestScheduler((a, b) => {
    expect(a).to.deep.equal(b);
  });
  const counters = new EnrichDelayCounters();
  const tracker = new EnrichDelayTracker({ windowSizeMs: WINDOW_MS, counters, maxTrackedEvents: 100 });
  const out: Enriched<Rec, { owner: string }>[] = [];
  scheduler.run(({ cold, flush }) => {
    input(cold)
      .pipe(
        tap((envelope) => tracker.entered(envelope)),
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
        tap((envelope) => tracker.left(envelope, envelope.value.record.id, envelope.value.status === 'failed')),
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

  it('a record whose window had closed before it entered enrichment is late before enrich, not delayed', () => {
    const counters = new EnrichDelayCounters();
    const tracker = new EnrichDelayTracker({ windowSizeMs: WINDOW_MS, counters, maxTrackedEvents: 100 });
    tracker.entered(testEnvelope('ahead', { eventTimeMs: 130_000, watermarkMs: 125_000 }));
    const old = testEnvelope('old', { eventTimeMs: 5_000, watermarkMs: 5_000 });
    tracker.entered(old);
    tracker.left(old, 'old', false);
    expect(counters).to.include({ delayedPastWindow: 0, lateBeforeEnrich: 1 });
    expect(() => new EnrichDelayTracker({ windowSizeMs: 0, counters })).to.throw(RangeError, 'windowSizeMs');
  });

  it('property: enrichment that finishes before the next record enters never delays a record', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1e7 }), fc.integer({ min: -1e4, max: 1e4 })), { maxLength: 200 }), (records) => {
        const counters = new EnrichDelayCounters();
        const tracker = new EnrichDelayTracker({ windowSizeMs: WINDOW_MS, counters, maxTrackedEvents: 100 });
        records.forEach(([eventTimeMs, skewMs], i) => {
          const envelope = testEnvelope(i, { eventTimeMs, watermarkMs: eventTimeMs + skewMs });
          tracker.entered(envelope);
          tracker.left(envelope, String(i), false);
        });
        expect(counters.delayedPastWindow).to.equal(0);
        expect(counters.lateBeforeEnrich).to.be.at.most(records.length);
      }),
    );
  });
});
