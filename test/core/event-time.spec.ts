import { expect } from 'chai';
import fc from 'fast-check';
import {
  WatermarkTracker,
  OperatorWatermark,
  assertWindowSizeMs,
  epochIndex,
  epochWindow,
  hoppingWindowsFor,
  isLateForWindow,
  isWindowComplete,
  routeLateRecord,
  tumblingWindowFor,
  windowStartMs,
} from '../../core/event-time/index.js';
import { testEnvelope } from '../../core/envelope.js';

describe('event time', () => {
  describe('windows', () => {
    it('puts an event in the half-open tumbling window that holds it', () => {
      expect(tumblingWindowFor(0, { sizeMs: 1000 })).to.deep.equal({ startMs: 0, endMs: 1000 });
      expect(tumblingWindowFor(999, { sizeMs: 1000 })).to.deep.equal({ startMs: 0, endMs: 1000 });
      expect(tumblingWindowFor(1000, { sizeMs: 1000 })).to.deep.equal({ startMs: 1000, endMs: 2000 });
      expect(tumblingWindowFor(-1, { sizeMs: 1000 })).to.deep.equal({ startMs: -1000, endMs: 0 });
      expect(tumblingWindowFor(1250, { sizeMs: 1000, offsetMs: 250 })).to.deep.equal({ startMs: 1250, endMs: 2250 });
    });

    it('always holds the event time in [start, end) (property)', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: -1e12, max: 1e12 }),
          fc.integer({ min: 1, max: 1e7 }),
          fc.integer({ min: -1e6, max: 1e6 }),
          (t, size, offset) => {
            const w = tumblingWindowFor(t, { sizeMs: size, offsetMs: offset });
            return w.startMs <= t && t < w.endMs && w.endMs - w.startMs === size && (w.startMs - offset) % size === 0;
          },
        ),
        { numRuns: 300 },
      );
    });

    it('lists every hopping window that holds an event', () => {
      expect(hoppingWindowsFor(1500, { sizeMs: 1000, advanceMs: 500 })).to.deep.equal([
        { startMs: 1000, endMs: 2000 },
        { startMs: 1500, endMs: 2500 },
      ]);
      expect(hoppingWindowsFor(1499, { sizeMs: 1000, advanceMs: 500 })).to.deep.equal([
        { startMs: 500, endMs: 1500 },
        { startMs: 1000, endMs: 2000 },
      ]);
    });

    it('numbers epochs and maps them back to windows', () => {
      expect(epochIndex(2500, 1000)).to.equal(2);
      expect(epochWindow(2, 1000)).to.deep.equal({ startMs: 2000, endMs: 3000 });
      expect(windowStartMs(2500, 1000)).to.equal(2000);
    });

    it('completes a window once the watermark reaches its last millisecond', () => {
      const w = { startMs: 0, endMs: 1000 };
      expect(isWindowComplete(w, 998)).to.equal(false);
      expect(isWindowComplete(w, 999)).to.equal(true);
      expect(isLateForWindow(500, { sizeMs: 1000 }, 999)).to.equal(true);
      expect(isLateForWindow(1000, { sizeMs: 1000 }, 999)).to.equal(false);
    });

    it('rejects a window size that is not a positive integer, naming the option', () => {
      expect(() => assertWindowSizeMs(0, 'x: windowMs')).to.throw(RangeError, /x: windowMs/);
      expect(() => assertWindowSizeMs(1.5, 'x: windowMs')).to.throw(RangeError);
      expect(() => assertWindowSizeMs(10, 'x: windowMs')).not.to.throw();
    });
  });

  describe('WatermarkTracker', () => {
    function trackerAt(options: { allowedLatenessMs?: number; idleTimeoutMs?: number } = {}) {
      const clock = { nowMs: 0 };
      const tracker = new WatermarkTracker({ ...options, now: () => clock.nowMs });
      return { clock, tracker };
    }

    it('trails the highest event time by the allowed lateness', () => {
      const { tracker } = trackerAt({ allowedLatenessMs: 100 });
      expect(tracker.watermarkMs()).to.equal(-Infinity);
      expect(tracker.observe(0, 1000)).to.deep.equal({ late: false, watermarkMs: 900 });
      expect(tracker.observe(0, 950)).to.deep.equal({ late: false, watermarkMs: 900 });
      expect(tracker.observe(0, 900)).to.deep.equal({ late: true, watermarkMs: 900 });
      expect(tracker.lateRecords).to.equal(1);
    });

    it('takes the minimum over partitions', () => {
      const { tracker } = trackerAt();
      tracker.addPartition(0);
      tracker.addPartition(1);
      tracker.observe(0, 5000);
      tracker.observe(1, 2000);
      expect(tracker.watermarkMs()).to.equal(2000);
      tracker.observe(1, 7000);
      expect(tracker.watermarkMs()).to.equal(5000);
    });

    it('holds the watermark for an assigned partition that has produced nothing, until it is idle', () => {
      const { clock, tracker } = trackerAt({ idleTimeoutMs: 1000 });
      tracker.addPartition(1);
      tracker.observe(0, 5000);
      expect(tracker.watermarkMs()).to.equal(-Infinity);
      clock.nowMs = 999;
      tracker.observe(0, 6000);
      expect(tracker.watermarkMs()).to.equal(-Infinity);
      clock.nowMs = 1000;
      expect(tracker.isIdle(1)).to.equal(true);
      expect(tracker.watermarkMs()).to.equal(6000);
    });

    it('excludes an idle partition and never moves backwards when it returns', () => {
      const { clock, tracker } = trackerAt({ idleTimeoutMs: 1000 });
      tracker.observe('a', 100);
      tracker.observe('b', 10_000);
      expect(tracker.watermarkMs()).to.equal(100);
      clock.nowMs = 500;
      tracker.observe('b', 11_000);
      clock.nowMs = 1200; // 'a' silent for 1200 ms, 'b' for 700 ms
      expect(tracker.watermarkMs()).to.equal(11_000);
      const back = tracker.observe('a', 200);
      expect(back.late).to.equal(true);
      expect(back.watermarkMs).to.equal(11_000);
      expect(tracker.partitionWatermarkMs('a')).to.equal(200);
    });

    it('keeps a partition held active (input left to read) in the minimum, for at most the hold after its last record', () => {
      const { clock, tracker } = trackerAt({ idleTimeoutMs: 1000 });
      tracker.observe('a', 100);
      tracker.observe('b', 10_000);
      for (const nowMs of [900, 1800, 2700]) {
        clock.nowMs = nowMs;
        tracker.holdActive('a', 3000);
        tracker.observe('b', 10_000 + nowMs);
      }
      // 'a' has produced nothing for 2700 ms, but it was held active: it still holds the watermark.
      expect(tracker.isIdle('a')).to.equal(false);
      expect(tracker.watermarkMs()).to.equal(100);
      // Past the hold (3000 ms after its last record) holding has no effect: it goes idle.
      clock.nowMs = 3100;
      tracker.holdActive('a', 3000);
      clock.nowMs = 3700;
      tracker.observe('b', 13_700);
      expect(tracker.isIdle('a')).to.equal(true);
      expect(tracker.watermarkMs()).to.equal(13_700);
      // An unknown partition is not created by holding it.
      tracker.holdActive('c', 3000);
      expect(tracker.snapshot().partitions.map((p) => p.partition)).to.deep.equal(['a', 'b']);
    });

    it('forgets a revoked partition', () => {
      const { tracker } = trackerAt();
      tracker.observe(0, 100);
      tracker.observe(1, 900);
      tracker.removePartition(0);
      expect(tracker.watermarkMs()).to.equal(900);
    });

    it('is monotonic and classifies lateness against the watermark a record arrives under (property)', () => {
      fc.assert(
        fc.property(
          fc.array(fc.record({ partition: fc.integer({ min: 0, max: 3 }), t: fc.integer({ min: 0, max: 10_000 }), dt: fc.integer({ min: 0, max: 300 }) }), { maxLength: 60 }),
          (steps) => {
            const { clock, tracker } = trackerAt({ allowedLatenessMs: 50, idleTimeoutMs: 1000 });
            let previous = -Infinity;
            for (const step of steps) {
              clock.nowMs += step.dt;
              const arrivedUnderMs = tracker.watermarkMs(); // may have moved: a partition went idle
              if (arrivedUnderMs < previous) return false;
              const { watermarkMs, late } = tracker.observe(step.partition, step.t);
              if (watermarkMs < arrivedUnderMs) return false;
              if (late !== step.t <= arrivedUnderMs) return false;
              previous = watermarkMs;
            }
            return true;
          },
        ),
        { numRuns: 200 },
      );
    });

    it('snapshots to JSON and restores', () => {
      const { clock, tracker } = trackerAt({ allowedLatenessMs: 10 });
      tracker.addPartition(2);
      tracker.observe(0, 500);
      const json = JSON.parse(JSON.stringify(tracker.snapshot()));
      const copy = new WatermarkTracker({ allowedLatenessMs: 10, now: () => clock.nowMs });
      copy.restore(json);
      expect(copy.snapshot()).to.deep.equal(tracker.snapshot());
      expect(copy.watermarkMs()).to.equal(-Infinity);
    });

    it('validates its options, naming the option', () => {
      expect(() => new WatermarkTracker({ allowedLatenessMs: -1, now: () => 0 })).to.throw(RangeError, /allowedLatenessMs/);
      expect(() => new WatermarkTracker({ idleTimeoutMs: 0, now: () => 0 })).to.throw(RangeError, /idleTimeoutMs/);
      expect(() => new WatermarkTracker({} as never)).to.throw(TypeError, /now/);
    });
  });

  describe('late records and the operator watermark', () => {
    it('drops a late record by default and hands it to a side output when given one', () => {
      const outcomes: string[] = [];
      routeLateRecord(testEnvelope(1, { onSettled: (o) => outcomes.push(o) }), 'drop');
      expect(outcomes).to.deep.equal(['dropped']);
      const side: number[] = [];
      routeLateRecord(testEnvelope(2), (e) => side.push(e.value));
      expect(side).to.deep.equal([2]);
    });

    it('keeps the highest watermark seen', () => {
      const w = new OperatorWatermark();
      expect(w.advance(10)).to.equal(true);
      expect(w.advance(5)).to.equal(false);
      expect(w.current).to.equal(10);
    });
  });
});
