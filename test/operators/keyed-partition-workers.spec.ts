import { expect } from 'chai';
import { from, lastValueFrom, Subject, toArray } from 'rxjs';
import { testEnvelope, type Envelope } from '../../core/envelope.js';
import { keyedPartition, PartitionProbe } from '../../operators/index.js';

const worker = (name: string) => new URL(`../fixtures/workers/${name}`, import.meta.url).href;
interface In {
  readonly key: string;
  readonly n: number;
}
interface Out extends In {
  readonly square: number;
  readonly threadId: number;
}
const input = (count: number): Envelope<In>[] =>
  Array.from({ length: count }, (_, n) => testEnvelope({ key: `k${n % 5}`, n }, { key: `k${n % 5}`, offset: n }));

describe('keyedPartition with workerPool (piscina)', function () {
  this.timeout(20_000);

  it('runs the work on worker threads and keeps per-key order', async () => {
    const probe = new PartitionProbe();
    const out = await lastValueFrom(
      from(input(200)).pipe(keyedPartition<In, Out>({ lanes: 3, workerPool: { filename: worker('square.mjs'), maxThreads: 2 }, probe }), toArray()),
    );
    expect(out).to.have.length(200);
    expect(out.every((e) => e.value.square === e.value.n * e.value.n && e.value.threadId > 0)).to.equal(true);
    for (let k = 0; k < 5; k++) {
      const ns = out.filter((e) => e.value.key === `k${k}`).map((e) => e.value.n);
      expect(ns).to.deep.equal([...ns].sort((a, b) => a - b));
    }
    expect(new Set(out.map((e) => e.value.threadId)).size).to.be.within(1, 2);
    expect(probe.lanes().reduce((n, l) => n + l.records, 0)).to.equal(200);
    // The envelope travels on, with the worker's value (outputs of different keys may interleave in any order).
    expect(out.find((e) => e.value.n === 7)!.origin.offset).to.equal(7);
  });

  it('keeps its threads while the stream runs: a lull between records does not replace them', async () => {
    // Piscina's default ends a thread the moment it is idle (idleTimeout 0) and starts a new one for
    // the next task: under load, the spec above saw a third thread id with maxThreads 2. The lull here
    // (the pool idle for a while, no record queued) makes that happen every time without the fix.
    const input$ = new Subject<Envelope<In>>();
    const out: Envelope<Out>[] = [];
    const done = new Promise<void>((resolve, reject) => {
      input$.pipe(keyedPartition<In, Out>({ lanes: 1, workerPool: { filename: worker('square.mjs'), maxThreads: 1 } })).subscribe({ next: (e) => out.push(e), error: reject, complete: resolve });
    });
    const resultOf = async (n: number): Promise<void> => {
      input$.next(testEnvelope({ key: 'k', n }, { key: 'k', offset: n }));
      while (out.length <= n) await new Promise((resolve) => setTimeout(resolve, 5));
    };
    for (let n = 0; n < 3; n++) {
      await resultOf(n);
      await new Promise((resolve) => setTimeout(resolve, 50)); // the lull: longer than piscina's idle timeout of 0
    }
    input$.complete();
    await done;
    expect(out.map((e) => e.value.n)).to.deep.equal([0, 1, 2]);
    expect(new Set(out.map((e) => e.value.threadId)).size).to.equal(1);
  });

  it('loads a TypeScript worker with execArgv --import tsx', async () => {
    const out = await lastValueFrom(
      from(input(10)).pipe(
        keyedPartition<In, Out>({ lanes: 2, workerPool: { filename: worker('square-ts.ts'), maxThreads: 1, execArgv: ['--import', 'tsx'] } }),
        toArray(),
      ),
    );
    expect(out.map((e) => e.value.square).sort((a, b) => a - b)).to.deep.equal([0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
  });

  it('a worker that throws errors the stream', async () => {
    const bad = [testEnvelope({ key: 'a', n: 1 }), testEnvelope({ key: 'a', n: -1 })];
    const result = lastValueFrom(from(bad).pipe(keyedPartition<In, Out>({ workerPool: { filename: worker('square.mjs') } }), toArray()));
    await result.then(
      () => expect.fail('expected an error'),
      (err: unknown) => expect(String(err)).to.match(/negative input -1/),
    );
  });

  it('checks its options when created', () => {
    expect(() => keyedPartition<In, Out>({ work: (e) => e as unknown as Envelope<Out>, workerPool: { filename: worker('square.mjs') } })).to.throw(TypeError, /not both/);
    expect(() => keyedPartition<In, Out>({ workerPool: { filename: '' } })).to.throw(TypeError, /workerPool/);
    expect(() => keyedPartition<In, Out>({ workerPool: { filename: worker('square.mjs'), maxThreads: 0 } })).to.throw(RangeError, /maxThreads/);
    expect(() => keyedPartition<In, Out>({})).to.throw(/work/);
  });
});
