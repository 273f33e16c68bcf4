import { expect } from 'chai';
import { from, lastValueFrom, toArray } from 'rxjs';
import { testEnvelope, type Envelope } from '../../runtime/envelope.js';
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
