import { expect } from 'chai';
import fc from 'fast-check';
import { decodeCompleted, encodeCompleted, MAX_COMPLETED_METADATA_BYTES, type OffsetRange } from '../../runtime/kafka/completed-offsets.js';

/** Ascending, disjoint ranges above `commit` (the first may start at it), from gap/span pairs. */
const rangesAbove = (commit: number, parts: readonly [number, number][]): OffsetRange[] => {
  const ranges: OffsetRange[] = [];
  let previous = commit;
  for (const [index, [gap, span]] of parts.entries()) {
    const first = previous + (index === 0 ? gap : gap + 1);
    ranges.push([first, first + span]);
    previous = first + span;
  }
  return ranges;
};

const offsetsOf = (ranges: readonly OffsetRange[]): number[] => ranges.flatMap(([first, last]) => Array.from({ length: last - first + 1 }, (_, i) => first + i));

const arbitraryCase = fc.record({
  commit: fc.integer({ min: 0, max: 2 ** 40 }),
  parts: fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 50 })), { maxLength: 200 }),
});

describe('completed-offsets: records completed ahead of the commit, in the commit metadata', () => {
  it('names exactly the completed offsets: decode(encode(x)) = x when it fits (property)', () => {
    fc.assert(
      fc.property(arbitraryCase, ({ commit, parts }) => {
        const ranges = rangesAbove(commit, parts);
        const { metadata, leftOut } = encodeCompleted(commit, ranges, 1e9);
        expect(leftOut).to.equal(0);
        if (ranges.length === 0) {
          expect(metadata).to.equal('');
          return;
        }
        const decoded = decodeCompleted(commit, metadata)!;
        expect(decoded.ranges).to.deep.equal(ranges);
        // Asked in ascending order, from the commit position on, `has` answers for every offset.
        const completed = new Set(offsetsOf(ranges));
        const last = ranges[ranges.length - 1]![1];
        for (let offset = commit; offset <= last + 2; offset++) expect(decoded.has(offset), `offset ${offset}`).to.equal(completed.has(offset));
      }),
      { numRuns: 150 },
    );
  });

  it('never exceeds its room; what does not fit is left out and counted, never invented (property)', () => {
    fc.assert(
      fc.property(arbitraryCase, fc.integer({ min: 8, max: 300 }), ({ commit, parts }, maxBytes) => {
        const ranges = rangesAbove(commit, parts);
        const { metadata, leftOut } = encodeCompleted(commit, ranges, maxBytes);
        expect(metadata.length).to.be.at.most(maxBytes);
        const kept = metadata === '' ? [] : offsetsOf(decodeCompleted(commit, metadata)!.ranges);
        const all = offsetsOf(ranges);
        // The nearest ranges are kept: a prefix of the completed offsets, the rest counted as left out.
        expect(kept).to.deep.equal(all.slice(0, kept.length));
        expect(kept.length + leftOut).to.equal(all.length);
      }),
      { numRuns: 150 },
    );
  });

  it('stays within the broker default for a partition with hundreds of gaps', () => {
    const ranges = rangesAbove(1_000_000, Array.from({ length: 5_000 }, (_, i) => [1 + (i % 7), i % 3] as [number, number]));
    const { metadata, leftOut } = encodeCompleted(1_000_000, ranges);
    expect(metadata.length).to.be.at.most(MAX_COMPLETED_METADATA_BYTES);
    expect(leftOut).to.be.greaterThan(0);
    expect(decodeCompleted(1_000_000, metadata)!.ranges.length).to.be.greaterThan(500);
  });

  it('skips nothing for metadata it did not write, and rejects a damaged value by name', () => {
    expect(decodeCompleted(10, '')).to.equal(null);
    expect(decodeCompleted(10, null)).to.equal(null);
    expect(decodeCompleted(10, 'written by another tool')).to.equal(null);
    expect(() => decodeCompleted(10, 'c1:3,!')).to.throw(/not a valid list of completed offsets \(at "!"\)/);
    expect(() => decodeCompleted(10, 'c1:3,0')).to.throw(/not a valid list/);
    expect(() => encodeCompleted(10, [[9, 12]])).to.throw(/must ascend above the commit position 10/);
  });

  it('gives the ranges from an offset on, cutting the one that straddles it', () => {
    const decoded = decodeCompleted(0, encodeCompleted(0, [[2, 4], [8, 9], [12, 12]]).metadata)!;
    expect(decoded.rangesFrom(3)).to.deep.equal([[3, 4], [8, 9], [12, 12]]);
    expect(decoded.rangesFrom(10)).to.deep.equal([[12, 12]]);
    expect(decoded.count).to.equal(6);
  });
});
