import { expect } from 'chai';
import fc from 'fast-check';
import { asyncScheduler, delay, from, map, of, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { testEnvelope, withValue, type Envelope } from '../../core/envelope.js';
import { keyedPartition, LaneOverflowError, PartitionProbe } from '../../operators/keyed-partition.js';
import { HashRing } from '../../operators/keyed-partition/index.js';

interface Item {
  readonly key: string;
  readonly seq: number;
}

const env = (key: string, seq: number, onSettled?: () => void): Envelope<Item> =>
  testEnvelope({ key, seq }, { key, offset: seq, ...(onSettled ? { onSettled } : {}) });

const newScheduler = () =>
  new TestScheduler((actual, expected) => {
    expect(actual).to.deep.equal(expected);
  });

/** Marble values are envelopes; compare their `key+seq` labels. */
const label = (e: Envelope<Item>) => `${e.value.key}${e.value.seq}`;

describe('keyedPartition', () => {
  // The doc-comment example.
  it('example: doubles values in 4 lanes', async () => {
    const probe = new PartitionProbe();
    const envelopes = [1, 2, 3].map((v, i) => testEnvelope(v, { key: `k${i}` }));
    const out: number[] = [];
    await new Promise<void>((resolve) =>
      from(envelopes)
        .pipe(keyedPartition({ lanes: 4, work: (e) => withValue(e, e.value * 2), probe }))
        .subscribe({ next: (e) => out.push(e.value), complete: resolve }),
    );
    expect(out).to.deep.equal([2, 4, 6]);
    expect(probe.lanes().reduce((n, l) => n + l.records, 0)).to.equal(3);
  });

  describe('marbles (rxjs checklist)', () => {
    const values = { a: env('a', 1), b: env('b', 1), c: env('a', 2), d: env('c', 1) };
    const slow = (frames: number) => (e: Envelope<Item>) => of(e).pipe(delay(frames));
    const run = (marble: string, expected: string, work = slow(0) as (e: Envelope<Item>) => Observable<Envelope<Item>> | Envelope<Item>, sub?: string) =>
      newScheduler().run(({ cold, hot, expectObservable }) => {
        const source = sub === undefined ? cold(marble, values) : hot(marble, values);
        const out = source.pipe(keyedPartition({ lanes: 2, work, routing: 'static', stealing: false }), map(label));
        if (sub === undefined) expectObservable(out).toBe(expected, { a: 'a1', b: 'b1', c: 'a2', d: 'c1' });
        else expectObservable(out, sub).toBe(expected, { a: 'a1', b: 'b1', c: 'a2', d: 'c1' });
      });

    it('empty', () => run('|', '|'));
    it('never', () => run('-', '-'));
    it('one value (synchronous work)', () => run('a|', 'a|', (e) => e));
    it('many values: a key waits for its previous record, other keys do not', () => {
      // Work takes 3 frames; a2 waits for a1 on the same lane.
      run('ac|', '---a--(c|)', slow(3));
    });
    it('error', () => run('a#', 'a#', (e) => e));
    it('never-ending', () => run('a-b-', 'a-b-', (e) => e));
    it('early unsubscribe', () => run('a-b-d-', '---a-', slow(3), '^----!'));
    it('a callback that throws errors the stream', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const out = cold('a', values).pipe(
          keyedPartition<Item, Item>({
            work: () => {
              throw new Error('boom');
            },
          }),
        );
        expectObservable(out).toBe('#', undefined, new Error('boom'));
      });
    });
    it('a keyOf that throws errors the stream', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const out = cold('a', values).pipe(
          keyedPartition<Item, Item>({
            work: (e) => e,
            keyOf: () => {
              throw new Error('no key');
            },
          }),
        );
        expectObservable(out).toBe('#', undefined, new Error('no key'));
      });
    });
  });

  it('validates options at the factory call, naming the option', () => {
    const work = (e: Envelope<number>) => e;
    expect(() => keyedPartition({ work, lanes: 0 })).to.throw(RangeError, /'lanes' must be an integer in \[1, 1024\], got 0/);
    expect(() => keyedPartition({ work, routing: 'round' as 'static' })).to.throw(RangeError, /'routing' must be one of/);
    expect(() => keyedPartition({ work, boundedLoadEpsilon: 0 })).to.throw(RangeError, /boundedLoadEpsilon/);
    expect(() => keyedPartition({ work, boundedLoadMeasure: 'queued' as 'active-keys' })).to.throw(RangeError, /'boundedLoadMeasure' must be one of 'active-keys', 'recent-records'/);
    expect(() => keyedPartition({ work, loadHalfLifeRecords: 0 })).to.throw(RangeError, /loadHalfLifeRecords/);
    expect(() => keyedPartition({ work: undefined as unknown as typeof work })).to.throw(TypeError, /'work' must be a function/);
  });

  it('signals pressure when a lane fills and releases it when lanes drain; overflows error', () => {
    const records = { a: env('k', 1), b: env('k', 2), c: env('k', 3), d: env('k', 4), e: env('k', 5), f: env('k', 6) };
    const labels = { a: 'k1', b: 'k2', c: 'k3', d: 'k4', e: 'k5', f: 'k6' };
    const signals: [number, boolean][] = [];
    newScheduler().run(({ cold, expectObservable }) => {
      const out = cold('abcdef|', records).pipe(
        keyedPartition<Item, Item>({
          lanes: 1,
          work: (e) => of(e).pipe(delay(10)),
          pauseAtQueuedPerLane: 3,
          maxQueuedPerLane: 5,
          onPressure: (p) => signals.push([asyncScheduler.now(), p]),
        }),
        map(label),
      );
      expectObservable(out).toBe('----------a 9ms b 9ms c 9ms d 9ms e 9ms (f|)', labels);
    });
    expect(signals).to.deep.equal([
      [3, true],
      [40, false],
    ]);
    newScheduler().run(({ cold, expectObservable }) => {
      const out = cold('abcdef|', records).pipe(
        keyedPartition<Item, Item>({ lanes: 1, work: (e) => of(e).pipe(delay(10)), pauseAtQueuedPerLane: 3, maxQueuedPerLane: 4 }),
        map(label),
      );
      expectObservable(out).toBe('-----#', labels, new LaneOverflowError(0, 4));
    });
  });

  describe('properties', () => {
    const arbitraryRun = fc.record({
      lanes: fc.integer({ min: 1, max: 5 }),
      routing: fc.constantFrom('consistent' as const, 'static' as const),
      stealing: fc.boolean(),
      epsilon: fc.option(fc.constantFrom(0.1, 0.5), { nil: null }),
      measure: fc.constantFrom('active-keys' as const, 'recent-records' as const),
      halfLife: fc.integer({ min: 1, max: 50 }),
      records: fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), fc.integer({ min: 0, max: 4 })), { maxLength: 60 }),
    });

    it('keeps per-key order, loses nothing, duplicates nothing, settles each record once; one record per lane and per key at a time', () => {
      fc.assert(
        fc.property(arbitraryRun, ({ lanes, routing, stealing, epsilon, measure, halfLife, records }) => {
          const settledCounts = new Array<number>(records.length).fill(0);
          const envelopes = records.map(([key], i) => env(key, i, () => settledCounts[i]!++));
          const inFlightPerLane = new Array<number>(lanes).fill(0);
          const inFlightKeys = new Set<string>();
          const output: Item[] = [];
          newScheduler().run(({ cold, flush }) => {
            const marble = records.map((_, i) => String.fromCharCode(0x100 + i)).join('') + '|';
            const valueMap = Object.fromEntries(envelopes.map((e, i) => [String.fromCharCode(0x100 + i), e]));
            cold(marble, valueMap)
              .pipe(
                keyedPartition<Item, Item>({
                  lanes,
                  routing,
                  stealing,
                  boundedLoadEpsilon: epsilon,
                  boundedLoadMeasure: measure,
                  loadHalfLifeRecords: halfLife,
                  minStealQueued: 1,
                  work: (e, lane) => {
                    expect(inFlightPerLane[lane]).to.equal(0);
                    expect(inFlightKeys.has(e.value.key)).to.equal(false);
                    // A zero delay is synchronous work: no queue forms, routing alone decides.
                    if (records[e.value.seq]![1] === 0) return e;
                    inFlightPerLane[lane]!++;
                    inFlightKeys.add(e.value.key);
                    return of(e).pipe(
                      delay(records[e.value.seq]![1]),
                      map((x) => {
                        inFlightPerLane[lane]!--;
                        inFlightKeys.delete(e.value.key);
                        return x;
                      }),
                    );
                  },
                }),
              )
              .subscribe((e) => {
                output.push(e.value);
                e.settlement.settle('delivered');
              });
            flush();
          });
          expect(output.map((i) => i.seq).sort((a, b) => a - b)).to.deep.equal(records.map((_, i) => i));
          for (const key of 'abcdef') {
            const seqs = output.filter((i) => i.key === key).map((i) => i.seq);
            expect(seqs).to.deep.equal([...seqs].sort((a, b) => a - b));
          }
          expect(settledCounts.every((c) => c === 1)).to.equal(true);
        }),
        { numRuns: 150 },
      );
    });
  });

  it('work stealing evens the load of a skewed key set (probe shows per-lane load and hot keys)', () => {
    const ring = new HashRing(2, 128);
    const lane0 = Array.from({ length: 200 }, (_, i) => `m${i}`).filter((k) => ring.laneOf(k) === 0).slice(0, 8);
    const loads = (stealing: boolean) => {
      const probe = new PartitionProbe();
      newScheduler().run(({ flush }) => {
        const envelopes = Array.from({ length: 80 }, (_, i) => env(lane0[i % lane0.length]!, i));
        from(envelopes)
          .pipe(keyedPartition<Item, Item>({ lanes: 2, stealing, probe, work: (e) => of(e).pipe(delay(5)) }))
          .subscribe();
        flush();
      });
      return probe;
    };
    const without = loads(false).lanes().map((l) => l.records);
    const probe = loads(true);
    const withStealing = probe.lanes().map((l) => l.records);
    expect(without).to.deep.equal([80, 0]);
    expect(Math.min(...withStealing)).to.be.greaterThan(25);
    expect(probe.lanes().reduce((t, l) => t + l.busyMs, 0)).to.equal(400);
    expect(probe.hotKeys()).to.have.length.greaterThan(0);
  });
});
