import { expect } from 'chai';
import fc from 'fast-check';
import { decidePauses, type PartitionProgress, type PausablePartition } from '../../../runtime/kafka/pause-decision.js';

function partition(n: number, unsettled: number, over: Partial<PausablePartition> = {}): PausablePartition {
  return { partition: n, tracker: { unsettled }, holdsFetching: false, nextOffset: 0, paused: false, overHighWater: false, aheadOfWatermark: false, ...over };
}

const progress = (watermarks: Record<number, number>, lag: number | null = 5): PartitionProgress => ({
  watermarkMs: (p) => watermarks[p] ?? -Infinity,
  isIdle: () => false,
  lag: () => lag,
  knownEmpty: () => false,
});

const noDrift = { partitionHighWater: 10, partitionLowWater: 5, maxEventTimeDriftMs: 0 };

describe('kafka source: pause decision', () => {
  it('pauses at the high-water mark and resumes only at the low-water mark (hysteresis)', () => {
    const load = { unsettled: 10 };
    const p = { ...partition(0, 0), tracker: load };
    expect(decidePauses([p], noDrift, progress({}))).to.deep.include({ toPause: [0], toResume: [] });
    load.unsettled = 7;
    expect(decidePauses([p], noDrift, progress({}))).to.deep.include({ toPause: [], toResume: [] });
    expect(p.paused).to.equal(true);
    load.unsettled = 5;
    expect(decidePauses([p], noDrift, progress({}))).to.deep.include({ toPause: [], toResume: [0] });
  });

  it('keeps a partition its lifecycle holds back (restoring, revoking) paused whatever its load', () => {
    const p = partition(0, 0, { holdsFetching: true, paused: true });
    expect(decidePauses([p], noDrift, progress({}))).to.deep.include({ toPause: [], toResume: [] });
    expect(p.paused).to.equal(true);
  });

  it('watermark alignment: pauses a partition ahead of the slowest by more than the drift, resumes it within half', () => {
    const limits = { partitionHighWater: 100, partitionLowWater: 50, maxEventTimeDriftMs: 1000 };
    const slow = partition(0, 0);
    const fast = partition(1, 0);
    expect(decidePauses([slow, fast], limits, progress({ 0: 0, 1: 1500 }))).to.deep.equal({ toPause: [1], toResume: [], aligned: 1 });
    // Between half the drift and the drift: stays paused.
    expect(decidePauses([slow, fast], limits, progress({ 0: 800, 1: 1500 }))).to.deep.equal({ toPause: [], toResume: [], aligned: 1 });
    expect(decidePauses([slow, fast], limits, progress({ 0: 1000, 1: 1500 }))).to.deep.equal({ toPause: [], toResume: [1], aligned: 0 });
  });

  it('a partition that has not produced yet holds every partition that has', () => {
    const limits = { partitionHighWater: 100, partitionLowWater: 50, maxEventTimeDriftMs: 1000 };
    const silent = partition(0, 0, { nextOffset: -1 });
    const busy = partition(1, 0);
    expect(decidePauses([silent, busy], limits, progress({ 1: 10 }, null))).to.deep.equal({ toPause: [1], toResume: [], aligned: 1 });
  });

  it('property: paused exactly when over the high-water mark, ahead, or held; the changes it reports are the changes it made', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ unsettled: fc.nat(30), held: fc.boolean(), paused: fc.boolean(), over: fc.boolean(), watermark: fc.integer({ min: 0, max: 5000 }) }), { minLength: 1, maxLength: 6 }),
        fc.constantFrom(0, 1000),
        (specs, driftMs) => {
          const parts = specs.map((s, i) => partition(i, s.unsettled, { holdsFetching: s.held, paused: s.paused, overHighWater: s.over }));
          const before = parts.map((p) => p.paused);
          const watermarks = Object.fromEntries(specs.map((s, i) => [i, s.watermark]));
          const decision = decidePauses(parts, { partitionHighWater: 20, partitionLowWater: 10, maxEventTimeDriftMs: driftMs }, progress(watermarks));
          parts.forEach((p, i) => {
            expect(p.paused).to.equal(p.overHighWater || p.aheadOfWatermark || p.holdsFetching);
            if (p.tracker.unsettled >= 20) expect(p.overHighWater).to.equal(true);
            if (p.tracker.unsettled <= 10) expect(p.overHighWater).to.equal(false);
            expect(decision.toPause.includes(i)).to.equal(!before[i] && p.paused);
            expect(decision.toResume.includes(i)).to.equal(before[i]! && !p.paused);
          });
          if (driftMs === 0) expect(decision.aligned).to.equal(0);
        },
      ),
    );
  });
});
