import { expect } from 'chai';
import fc from 'fast-check';
import { asyncScheduler, delay, from, map, NEVER, of, throwError, timer, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { testEnvelope, type Envelope } from '../../core/envelope.js';
import { enrich, EnrichCounters, LookupTimeoutError, PendingOverflowError, type EnrichFailure, type Enriched } from '../../operators/enrich.js';
import { EnrichmentCache, fullJitterDelayMs, NOT_FOUND, ReorderBuffer } from '../../operators/enrich/index.js';

const newScheduler = () =>
  new TestScheduler((actual, expected) => {
    expect(actual).to.deep.equal(expected);
  });

interface Rec {
  readonly key: string;
  readonly seq: number;
}
const env = (key: string, seq = 0, onSettled?: () => void) => testEnvelope<Rec>({ key, seq }, { offset: seq, ...(onSettled ? { onSettled } : {}) });
const show = (e: Envelope<Enriched<Rec, string>>) => `${e.value.record.key}:${e.value.status}:${e.value.enrichment ?? '-'}`;
const values = { a: env('a', 0), b: env('b', 1), c: env('c', 2), d: env('a', 3) };
/** A lookup that answers `KEY` after `frames` virtual ms. */
const slowLookup = (frames: number | ((key: string) => number)) => (key: string) =>
  of(key.toUpperCase()).pipe(delay(typeof frames === 'number' ? frames : frames(key)));

/** Runs `marble` through enrich in virtual time; returns [frame, label] of each output and of completion. */
function frames(marble: string, opts: Partial<Parameters<typeof enrich<Rec, string>>[0]>): [number, string][] {
  const seen: [number, string][] = [];
  newScheduler().run(({ cold, flush }) => {
    cold(marble, values)
      .pipe(enrich<Rec, string>({ keyOf: (r) => r.key, lookup: slowLookup(3), ...opts }))
      .subscribe({ next: (e) => seen.push([asyncScheduler.now(), show(e)]), complete: () => seen.push([asyncScheduler.now(), 'complete']) });
    flush();
  });
  return seen;
}

describe('enrich', () => {
  it('example: enriches with an async lookup and counts', async () => {
    const counters = new EnrichCounters();
    const envelopes = ['m1', 'm2', 'm1'].map((model_id) => testEnvelope({ model_id }));
    const out: (Enriched<{ model_id: string }, { owner: string }>)[] = [];
    await new Promise<void>((resolve) =>
      from(envelopes)
        .pipe(enrich({ keyOf: (event: { model_id: string }) => event.model_id, lookup: async (modelId) => ({ owner: `team-${modelId}` }), counters }))
        .subscribe({ next: (e) => out.push(e.value), complete: resolve }),
    );
    expect(out.map((o) => o.enrichment?.owner)).to.deep.equal(['team-m1', 'team-m1', 'team-m2']);
    expect(counters).to.include({ misses: 3, coalesced: 1, lookups: 2, inFlight: 0 });
  });

  describe('marbles (rxjs checklist)', () => {
    const run = (marble: string, expected: string, opts: Partial<Parameters<typeof enrich<Rec, string>>[0]> = {}, unsub?: string) =>
      newScheduler().run(({ hot, cold, expectObservable }) => {
        const source = unsub ? hot(marble, values) : cold(marble, values);
        const out = source.pipe(enrich<Rec, string>({ keyOf: (r) => r.key, lookup: slowLookup(3), ...opts }), map(show));
        const labels = { A: 'a:fetched:A', B: 'b:fetched:B', C: 'c:fetched:C', H: 'a:hit:A' };
        if (unsub) expectObservable(out, unsub).toBe(expected, labels);
        else expectObservable(out).toBe(expected, labels);
      });

    it('empty', () => run('|', '|'));
    it('never', () => run('-', '-'));
    it('one value', () => run('a|', '---(A|)'));
    it('many: no head-of-line blocking; a second miss joins the call under way; a later one hits', () => {
      const seen = frames('abcd----d|', { lookup: slowLookup((k) => (k === 'a' ? 3 : 6)) });
      expect(seen).to.deep.equal([[3, 'a:fetched:A'], [3, 'a:fetched:A'], [7, 'b:fetched:B'], [8, 'a:hit:A'], [8, 'c:fetched:C'], [9, 'complete']]);
    });
    it('ordered: c waits for b', () =>
      run('bc|', '------(BC|)', { ordered: true, lookup: slowLookup((k) => (k === 'b' ? 6 : 1)) }));
    it('error', () => run('a#', '-#'));
    it('never-ending', () => run('a-', '---A-'));
    it('early unsubscribe aborts the lookup under way', () => {
      const signals: AbortSignal[] = [];
      run('a---', '--', { lookup: (key, signal) => (signals.push(signal), slowLookup(5)(key)) }, '^-!');
      expect(signals[0]?.aborted).to.equal(true);
    });
    it('a keyOf that throws errors the stream', () =>
      newScheduler().run(({ cold, expectObservable }) => {
        const out = cold('a', values).pipe(
          enrich<Rec, string>({
            keyOf: () => {
              throw new Error('boom');
            },
            lookup: slowLookup(1),
          }),
        );
        expectObservable(out).toBe('#', undefined, new Error('boom'));
      }));
  });

  it('flags a failed lookup and keeps going (non-retriable error: no retry)', () => {
    const counters = new EnrichCounters();
    newScheduler().run(({ cold, expectObservable }) => {
      const out = cold('ab|', values).pipe(
        enrich<Rec, string>({
          keyOf: (r) => r.key,
          lookup: (key) => (key === 'a' ? throwError(() => Object.assign(new Error('gone'), { status: 404 })) : slowLookup(2)(key)),
          counters,
        }),
        map((e) => `${e.value.status}:${e.value.error ?? ''}`),
      );
      expectObservable(out).toBe('a--(b|)', { a: 'failed:Error: gone', b: 'fetched:' });
    });
    expect(counters).to.include({ failures: 1, retries: 0 });
  });

  it('times out each attempt (aborting its signal), retries with jitter, then dead-letters', () => {
    const counters = new EnrichCounters();
    const failures: EnrichFailure<Rec>[] = [];
    const signals: AbortSignal[] = [];
    newScheduler().run(({ cold, expectObservable }) => {
      const out = cold('a|', values).pipe(
        enrich<Rec, string>({
          keyOf: (r) => r.key,
          lookup: (_key, signal) => (signals.push(signal), NEVER),
          timeoutMs: 10,
          retries: 2,
          retryBaseDelayMs: 4,
          onFailure: 'dead-letter',
          deadLetter: (f) => failures.push(f),
          counters,
        }),
      );
      // 3 attempts of 10 ms plus two jittered waits below 4 and 8 ms (seeded: 9 ms in all).
      expectObservable(out).toBe('39ms |');
    });
    expect(counters).to.include({ timeouts: 3, retries: 2, failures: 1, inFlight: 0 });
    expect(signals.every((s) => s.aborted)).to.equal(true);
    expect(failures[0]?.error).to.be.instanceOf(LookupTimeoutError);
    expect(failures[0]?.failedAtMs).to.be.within(30, 42);
    expect(failures[0]?.step).to.equal('enrich');
  });

  it('serves stale while revalidating, caches misses, expires', () => {
    const counters = new EnrichCounters();
    newScheduler().run(({ cold, expectObservable }) => {
      const src = cold('a 9ms a 9ms a 9ms a 29ms a 9ms b b 19ms b|', { a: env('a'), b: env('b') });
      const out = src.pipe(
        enrich<Rec, string>({
          keyOf: (r) => r.key,
          lookup: (key) => (key === 'b' ? of(undefined) : of(key.toUpperCase())),
          ttlMs: 15,
          staleWhileRevalidateMs: 10,
          negativeTtlMs: 15,
          counters,
        }),
        map((e) => e.value.status),
      );
      expectObservable(out).toBe('f 9ms h 9ms s 9ms h 29ms f 9ms n n 19ms n|', { f: 'fetched', h: 'hit', s: 'stale', n: 'not-found' });
    });
    expect(counters).to.include({ hits: 3, staleHits: 1, misses: 4, notFound: 2, lookups: 5 });
  });

  it('batched mode blocks a fast record behind its batch (the baseline)', () => {
    // a and b form a batch (size 2) whose slowest key takes 20 ms; c's batch (closed by its 5 ms window
    // at 14) waits behind it although its own lookup takes 1 ms.
    const seen = frames('ab 7ms c|', { lookup: slowLookup((k) => (k === 'a' ? 20 : 1)), mode: 'batched', batchSize: 2, batchWindowMs: 5 });
    expect(seen).to.deep.equal([[21, 'a:fetched:A'], [21, 'b:fetched:B'], [22, 'c:fetched:C'], [22, 'complete']]);
    const unbatched = frames('ab 7ms c|', { lookup: slowLookup((k) => (k === 'a' ? 20 : 1)) });
    expect(unbatched).to.deep.equal([[2, 'b:fetched:B'], [10, 'c:fetched:C'], [20, 'a:fetched:A'], [20, 'complete']]);
  });

  it('signals pressure and errors past maxPendingRecords', () => {
    const signals: boolean[] = [];
    newScheduler().run(({ cold, expectObservable }) => {
      const out = cold('abc|', values).pipe(
        enrich<Rec, string>({ keyOf: (r) => r.key, lookup: slowLookup(5), concurrency: 1, pauseAtPendingRecords: 2, maxPendingRecords: 3, onPressure: (p) => signals.push(p) }),
        map(show),
      );
      expectObservable(out).toBe('-----A----B----(C|)', { A: 'a:fetched:A', B: 'b:fetched:B', C: 'c:fetched:C' });
    });
    expect(signals).to.deep.equal([true, false]);
    newScheduler().run(({ cold, expectObservable }) => {
      const out = cold('abc|', values).pipe(enrich<Rec, string>({ keyOf: (r) => r.key, lookup: slowLookup(5), pauseAtPendingRecords: 1, maxPendingRecords: 2 }));
      expectObservable(out).toBe('--#', undefined, new PendingOverflowError(2));
    });
  });

  it('validates options at the factory call, naming the option', () => {
    const base = { keyOf: (r: Rec) => r.key, lookup: slowLookup(1) };
    expect(() => enrich({ ...base, concurrency: 0 })).to.throw(RangeError, /'concurrency' must be an integer in \[1, 4096\], got 0/);
    expect(() => enrich({ ...base, onFailure: 'dead-letter' })).to.throw(TypeError, /'deadLetter' must be a function/);
    expect(() => enrich({ ...base, mode: 'bulk' as 'batched' })).to.throw(RangeError, /'mode' must be one of 'async', 'batched'/);
    expect(() => enrich({ ...base, maxPendingRecords: 10 })).to.throw(RangeError, /'maxPendingRecords' must be an integer in \[1000, /);
  });

  describe('properties', () => {
    const scenario = fc.record({
      keys: fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.nat(3)), { maxLength: 40 }),
      delays: fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.integer({ min: 0, max: 8 })),
      failing: fc.subarray(['a', 'b', 'c', 'd', 'e']),
      concurrency: fc.integer({ min: 1, max: 4 }),
      ordered: fc.boolean(),
      mode: fc.constantFrom('async' as const, 'batched' as const),
    });

    it('loses nothing, settles each record once, respects the concurrency bound, makes one call at a time per key, keeps order when asked', () => {
      fc.assert(
        fc.property(scenario, ({ keys, delays, failing, concurrency, ordered, mode }) => {
          const settled = new Array<number>(keys.length).fill(0);
          const out: Rec[] = [];
          const inFlightKeys = new Map<string, number>();
          let inFlight = 0;
          let maxInFlight = 0;
          const callsPerKey = new Map<string, number>();
          newScheduler().run(({ cold, flush }) => {
            const marble = keys.map(([, gap], i) => String.fromCharCode(0x100 + i) + '-'.repeat(gap)).join('') + '|';
            const vals = Object.fromEntries(keys.map(([k], i) => [String.fromCharCode(0x100 + i), env(k, i, () => settled[i]!++)]));
            const lookupOne = (key: string): Observable<string> => {
              expect(inFlightKeys.get(key) ?? 0, `single-flight ${key}`).to.equal(0);
              inFlightKeys.set(key, 1);
              callsPerKey.set(key, (callsPerKey.get(key) ?? 0) + 1);
              inFlight++;
              maxInFlight = Math.max(maxInFlight, inFlight);
              return timer(delays[key] ?? 2).pipe(
                map(() => {
                  inFlight--;
                  inFlightKeys.set(key, 0);
                  if (failing.includes(key)) throw Object.assign(new Error('no'), { retriable: false });
                  return key.toUpperCase();
                }),
              );
            };
            cold(marble, vals)
              .pipe(enrich<Rec, string>({ keyOf: (r) => r.key, lookup: lookupOne, concurrency, ordered, mode, batchSize: 3, batchWindowMs: 2, ttlMs: 1e6 }))
              .subscribe((e) => {
                out.push(e.value.record);
                expect(e.value.status).to.equal(failing.includes(e.value.record.key) ? 'failed' : e.value.status);
                e.settlement.settle('delivered');
              });
            flush();
          });
          expect(out.map((r) => r.seq).sort((x, y) => x - y)).to.deep.equal(keys.map((_, i) => i));
          expect(settled.every((n) => n === 1)).to.equal(true);
          if (mode === 'async') {
            expect(maxInFlight).to.be.at.most(concurrency);
            for (const [key, calls] of callsPerKey) if (!failing.includes(key)) expect(calls, `calls for ${key}`).to.equal(1);
          }
          if (ordered || mode === 'batched') expect(out.map((r) => r.seq)).to.deep.equal(keys.map((_, i) => i));
        }),
        { numRuns: 150 },
      );
    });
  });

  describe('pure parts', () => {
    it('EnrichmentCache: fresh, stale, expired and negative entries on the injected clock', () => {
      const cache = new EnrichmentCache<string>({ maxEntries: 2, ttlMs: 10, staleWhileRevalidateMs: 5, negativeTtlMs: 3 });
      cache.write('a', 'A', 0);
      cache.write('n', NOT_FOUND, 0);
      expect(cache.read('a', 9)).to.deep.equal({ state: 'fresh', value: 'A' });
      expect(cache.read('a', 12)).to.deep.equal({ state: 'stale', value: 'A' });
      expect(cache.read('a', 15)).to.deep.equal({ state: 'absent' });
      expect(cache.read('n', 2)).to.deep.equal({ state: 'fresh', value: NOT_FOUND });
      expect(cache.read('n', 3)).to.deep.equal({ state: 'absent' });
      cache.write('x', 'X', 0);
      cache.write('y', 'Y', 0);
      cache.write('z', 'Z', 0);
      expect(cache.size).to.equal(2);
    });

    it('full jitter stays below the capped exponential', () => {
      fc.assert(
        fc.property(fc.nat(10), fc.double({ min: 0, max: 0.999999, noNaN: true }), (attempt, u) => {
          const d = fullJitterDelayMs(attempt, 50, 2000, u);
          expect(d).to.be.at.least(0).and.below(Math.max(1, Math.min(2000, 50 * 2 ** attempt)));
        }),
      );
    });

    it('ReorderBuffer releases in sequence order', () => {
      fc.assert(
        fc.property(fc.shuffledSubarray([0, 1, 2, 3, 4, 5, 6, 7], { minLength: 8 }), (order) => {
          const buffer = new ReorderBuffer<number>();
          for (let i = 0; i < 8; i++) buffer.issue();
          const out = order.flatMap((seq) => buffer.complete(seq, seq));
          expect(out).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7]);
          expect(buffer.held).to.equal(0);
        }),
      );
    });
  });
});
