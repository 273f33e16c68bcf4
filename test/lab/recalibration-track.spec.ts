/**
 * The recalibration experiment's measures on hand-built series: rolling windows in event time, time
 * to target against a reference, the level factors replayed from labels, and the summary's ratio.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { gridTimes, replayLevels, rollingScores, timeToTarget, type GivenLabel, type RollingPoint } from '../../lab/lab-run/recalibration-track.js';
import { recalibrationMarkdown, recalibrationSummary, recalibratorOptionsOf, type RecalibrationTrack } from '../../lab/lab-run/recalibration-report.js';
import { labVariants } from '../../lab/lab-run/index.js';

const H = 3_600_000;
const point = (atMs: number, precision: number | null, recall: number | null): RollingPoint => ({ atMs, precision, recall, mentions: 10, incidents: 3 });

describe('lab: recalibration measures', () => {
  it('the grid runs from one step after the start to the end, the end included', () => {
    expect(gridTimes({ fromMs: 0, toMs: 10, stepMs: 3 })).to.deep.equal([3, 6, 9, 10]);
    expect(gridTimes({ fromMs: 0, toMs: 9, stepMs: 3 })).to.deep.equal([3, 6, 9]);
    expect(() => gridTimes({ fromMs: 0, toMs: 9, stepMs: 0 })).to.throw(RangeError, /stepMs/);
  });

  it('rolling precision counts the mentions whose window ended in (t − window, t]; recall the incidents that ended there', () => {
    const mentions = [
      { atMs: 1 * H, matched: false },
      { atMs: 2 * H, matched: true },
      { atMs: 3 * H, matched: true },
      { atMs: 4 * H, matched: true },
    ];
    const incidents = [
      { endMs: 1.5 * H, found: false },
      { endMs: 3.5 * H, found: true },
    ];
    const points = rollingScores(mentions, incidents, { fromMs: 0, toMs: 4 * H, stepMs: H, windowMs: 2 * H, minMentions: 1, minIncidents: 1 });
    expect(points.map((p) => p.atMs)).to.deep.equal([1 * H, 2 * H, 3 * H, 4 * H]);
    expect(points.map((p) => p.mentions)).to.deep.equal([1, 2, 2, 2]);
    expect(points.map((p) => p.precision)).to.deep.equal([0, 0.5, 1, 1]);
    // The window is (t − 2 h, t]: at 3 h the mention at 1 h has left it (1 h ≤ 3 h − 2 h).
    expect(points.map((p) => p.recall)).to.deep.equal([null, 0, 0, 1]);
  });

  it('a window with fewer mentions or incidents than the minimum has no figure', () => {
    const points = rollingScores([{ atMs: H, matched: true }], [{ endMs: H, found: true }], { fromMs: 0, toMs: H, stepMs: H, windowMs: H, minMentions: 2, minIncidents: 2 });
    expect(points).to.deep.equal([{ atMs: H, precision: null, recall: null, mentions: 1, incidents: 1 }]);
  });

  it('property: rolling figures equal a direct count over each window', () => {
    const item = fc.record({ atMs: fc.integer({ min: 0, max: 100 }), good: fc.boolean() });
    fc.assert(
      fc.property(fc.array(item, { maxLength: 40 }), fc.array(item, { maxLength: 20 }), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 30 }), (ms, is, windowMs, stepMs) => {
        const points = rollingScores(
          ms.map((m) => ({ atMs: m.atMs, matched: m.good })),
          is.map((i) => ({ endMs: i.atMs, found: i.good })),
          { fromMs: 0, toMs: 100, stepMs, windowMs, minMentions: 1, minIncidents: 1 },
        );
        for (const p of points) {
          const inWindow = <T extends { atMs: number }>(xs: T[]): T[] => xs.filter((x) => x.atMs > p.atMs - windowMs && x.atMs <= p.atMs);
          const m = inWindow(ms);
          const i = inWindow(is);
          expect(p.mentions).to.equal(m.length);
          expect(p.precision).to.equal(m.length === 0 ? null : m.filter((x) => x.good).length / m.length);
          expect(p.recall).to.equal(i.length === 0 ? null : i.filter((x) => x.good).length / i.length);
        }
      }),
    );
  });

  it('time to target: the first point at or after the first label with precision ≥ target and recall within the slack of the reference', () => {
    const reference = [point(1, 0.97, 0.8), point(2, 0.97, 0.8), point(3, 0.97, 0.9), point(4, 0.97, 0.8)];
    const options = { targetPrecision: 0.95, recallSlack: 0.05, notBeforeMs: 2 };
    // 2: precision short; 3: recall 0.84 < 0.9 − 0.05; 4: on target.
    expect(timeToTarget([point(1, 0.99, 0.8), point(2, 0.9, 0.8), point(3, 0.96, 0.84), point(4, 0.96, 0.76)], reference, options)).to.deep.equal({ atMs: 4, onTargetBeforeLabels: true });
    expect(timeToTarget([point(2, 0.96, 0.75)], reference, options)).to.deep.equal({ atMs: 2, onTargetBeforeLabels: false });
    // A point without a figure, or without a reference at its time, is not on target.
    expect(timeToTarget([point(2, null, 0.9), point(3, 0.99, null), point(5, 0.99, 0.99)], reference, options)).to.deep.equal({ atMs: null, onTargetBeforeLabels: false });
    expect(() => timeToTarget([], reference, { ...options, targetPrecision: 0 })).to.throw(RangeError, /targetPrecision/);
  });

  it('property: time to target is never before the first label, is on target, and no earlier point after the first label is', () => {
    const figure = fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null });
    const series = fc.array(fc.tuple(figure, figure, figure), { minLength: 1, maxLength: 30 });
    fc.assert(
      fc.property(series, fc.integer({ min: 0, max: 31 }), (rows, notBeforeMs) => {
        const variant = rows.map(([p, r], k) => point(k, p, r));
        const reference = rows.map(([, , r], k) => point(k, 1, r));
        const options = { targetPrecision: 0.95, recallSlack: 0.05, notBeforeMs };
        const { atMs } = timeToTarget(variant, reference, options);
        const good = (k: number): boolean => variant[k]!.precision !== null && variant[k]!.recall !== null && reference[k]!.recall !== null && variant[k]!.precision! >= 0.95 && variant[k]!.recall! >= reference[k]!.recall! - 0.05;
        const firstGood = variant.findIndex((_, k) => k >= notBeforeMs && good(k));
        expect(atMs).to.equal(firstGood === -1 ? null : firstGood);
        if (atMs !== null) expect(atMs).to.be.at.least(notBeforeMs);
      }),
    );
  });

  const label = (n: number, verdict: GivenLabel['verdict'], overrides: Partial<GivenLabel> = {}): GivenLabel => ({ mention_id: `m${n}`, labeled_at: n * H, verdict, lane: 'fast', model: 'model-1', field: 'latency_ms', sketch: true, ...overrides });
  const options = recalibratorOptionsOf({ MODEL_MONITOR_LEVEL_SCALE: '0.5', MODEL_MONITOR_RECALIBRATE: 'on' });

  it('replays the level factors from the labels in event time: false positives raise a factor that starts below the floor', () => {
    const points = replayLevels([label(3, 'FALSE_POSITIVE'), label(1, 'FALSE_POSITIVE'), label(2, 'FALSE_POSITIVE')], options, 0);
    expect(points[0]!.atMs).to.equal(0);
    expect(points[0]!.scales['latency_ms']).to.equal(0.5);
    expect(points.map((p) => p.atMs)).to.deep.equal([0, 1 * H, 2 * H, 3 * H]);
    const latency = points.map((p) => p.scales['latency_ms']!);
    for (let k = 1; k < latency.length; k++) expect(latency[k]).to.be.greaterThan(latency[k - 1]!);
  });

  it('replay: UNSURE, labels of mentions not from the sketch, a second label of a mention and labels given after the run move nothing', () => {
    const points = replayLevels([label(1, 'UNSURE'), label(2, 'FALSE_POSITIVE', { sketch: false }), label(3, 'FALSE_POSITIVE'), label(4, 'FALSE_POSITIVE', { mention_id: 'm3' }), label(5, 'FALSE_POSITIVE', { after_run: true })], options, 0);
    expect(points.map((p) => p.atMs)).to.deep.equal([0, 3 * H]);
  });

  it('the summary: time to target per variant from the stream start, and the ratio slow / fast per start', () => {
    const variants = labVariants().filter((v) => v.experiment === 'recalibration');
    expect(variants.map((v) => v.name)).to.deep.equal(['recal-calibrated', 'recal-half-fast', 'recal-half-slow', 'recal-double-fast', 'recal-double-slow']);
    const on = (fromHour: number): RollingPoint[] => Array.from({ length: 48 }, (_, k) => point((k + 1) * H, k + 1 >= fromHour ? 0.97 : 0.5, 0.8));
    const track = (fromHour: number, firstLabelHour: number): RecalibrationTrack => ({ startMs: 0, points: on(fromHour), levels: [], firstLabelMs: firstLabelHour * H, labels: { fast: 1, slow: 1 }, reportedScales: null, speedup: 3600, reviewLaneLatencyP50S: 2 });
    const tracks: Record<string, RecalibrationTrack> = {
      'recal-calibrated': track(1, 1),
      'recal-half-fast': track(4, 1),
      'recal-half-slow': track(12, 30),
      'recal-double-fast': track(1, 2),
      'recal-double-slow': track(100, 30),
    };
    const summary = recalibrationSummary(variants.map((variant) => ({ variant, track: tracks[variant.name]! })))!;
    expect(summary.reference).to.equal('recal-calibrated');
    const hours = Object.fromEntries(summary.rows.map((r) => [r.variant, r.time_to_target_h]));
    // half-slow is on target from 12 h but its first label came at 30 h; double-fast was on target before its first label.
    expect(hours).to.deep.equal({ 'recal-calibrated': 1, 'recal-half-fast': 4, 'recal-half-slow': 30, 'recal-double-fast': 2, 'recal-double-slow': null });
    expect(summary.rows.find((r) => r.variant === 'recal-double-fast')!.on_target_before_labels).to.equal(true);
    // 2 s of wall clock at 3600× is 2 h of event time.
    expect(summary.rows[0]!.review_lane_applied_p50_h).to.equal(2);
    expect(summary.ratios).to.deep.equal([
      { start_scale: 0.5, fast_h: 4, slow_h: 30, slow_over_fast: 7.5 },
      { start_scale: 2, fast_h: 2, slow_h: null, slow_over_fast: null },
    ]);
    const markdown = recalibrationMarkdown(summary).join('\n');
    expect(markdown).to.match(/## Recalibration/);
    expect(markdown).to.match(/\| ×0\.5 \| 4\.0 h \| 30\.0 h \| 7\.50× \|/);
    expect(markdown).to.match(/\| ×2 \| 2\.0 h \| never \| n\/a \|/);
    expect(recalibrationSummary([])).to.equal(undefined);
  });

  it('fast and slow variants of one start run the same model-monitor; only the labelers differ', () => {
    const variants = labVariants().filter((v) => v.experiment === 'recalibration');
    for (const start of [0.5, 2]) {
      const [fast, slow] = [variants.find((v) => v.levelScale === start && v.labelLanes === 'both')!, variants.find((v) => v.levelScale === start && v.labelLanes === 'slow')!];
      expect(fast.env).to.deep.equal(slow.env);
      expect(fast.env['MODEL_MONITOR_LEVEL_SCALE']).to.equal(String(start));
    }
  });
});
