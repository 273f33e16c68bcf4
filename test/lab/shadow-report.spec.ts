/** The shadow report on hand-built cases: agreement, shadow-only and live-only per field, precision intervals and the verdict rule. */
import { expect } from 'chai';
import fc from 'fast-check';
import { sameFinding, shadowReport, shadowReportMarkdown, shadowVerdict, VERDICT_RANK, wilsonInterval, type VerdictRule } from '../../lab/shadow-report/shadow-report.js';
import type { Label, Mention } from '../../schemas/index.js';

const MIN = 60_000;
let counter = 0;
function mention(overrides: Partial<Mention> = {}): Mention {
  return {
    mention_id: `m-${counter++}`, emitted_at: 1_000, window_start: 10 * MIN, window_end: 11 * MIN, model_id: 'm1', model_version: 'v1', tenant: 't', segment: 's1',
    field: 'latency_ms', direction: 'HIGH', detector: 'sketch-cusum', score: 1, cluster_id: 'c', event_count: 2, evidence_event_ids: [], shadow: false, attributes: {},
    ...overrides,
  };
}
const shadowOf = (m: Mention, name = 'sketch-cusum@scale=0.5', overrides: Partial<Mention> = {}): Mention => ({ ...m, ...overrides, mention_id: `shadow:${name}:${m.mention_id}`, shadow: true, attributes: { shadow_detector: name } });
const label = (m: Mention, truth: boolean): Label => ({ mention_id: m.mention_id, labeled_at: 0, verdict: truth ? 'TRUE_POSITIVE' : 'FALSE_POSITIVE', labeler: 't', note: '' });
const RULE: VerdictRule = { targetPrecision: 0.95, minLabels: 10, confidence: 0.95 };

describe('lab: shadow report', () => {
  it('Wilson interval: known values, contains the point, narrows with more trials', () => {
    const i = wilsonInterval(8, 10);
    expect(i.point).to.equal(0.8);
    expect(i.lower).to.be.closeTo(0.4902, 1e-3);
    expect(i.upper).to.be.closeTo(0.9433, 1e-3);
    expect(wilsonInterval(0, 0)).to.deep.equal({ point: null, lower: 0, upper: 1 });
    fc.assert(fc.property(fc.integer({ min: 1, max: 500 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, share) => {
      const k = Math.round(share * n);
      const a = wilsonInterval(k, n);
      const b = wilsonInterval(4 * k, 4 * n);
      return a.lower <= a.point! + 1e-12 && a.point! <= a.upper + 1e-12 && b.upper - b.lower <= a.upper - a.lower + 1e-12;
    }));
  });

  it('agreement, live-only and shadow-only per field, matched by model, segment, field, direction and overlapping windows', () => {
    const a = mention();
    const b = mention({ field: 'confidence', direction: 'LOW' });
    const liveOnly = mention({ segment: 's2' });
    const shifted = shadowOf(a, undefined, { window_start: 10.5 * MIN, window_end: 11.5 * MIN }); // overlaps a
    const otherDirection = shadowOf(b, undefined, { direction: 'HIGH' }); // not b
    const shadowOnly = shadowOf(mention({ field: 'confidence', window_start: 30 * MIN, window_end: 31 * MIN }));
    const report = shadowReport({ live: [a, b, liveOnly], shadow: [shifted, otherDirection, shadowOnly], labels: [label(shadowOnly, true), label(liveOnly, false)] });
    const c = report.comparisons[0]!;
    expect(c.shadow).to.equal('sketch-cusum@scale=0.5');
    expect(c.agreement).to.equal(2 / 6);
    expect(c.fields).to.deep.equal([
      { field: 'confidence', both: { live: 0, shadow: 0 }, liveOnly: 1, shadowOnly: 2, shadowOnlyTrue: 1, liveOnlyTrue: 0 },
      { field: 'latency_ms', both: { live: 1, shadow: 1 }, liveOnly: 1, shadowOnly: 0, shadowOnlyTrue: 0, liveOnlyTrue: 0 },
    ]);
    expect(sameFinding(a, { ...a, window_start: 11 * MIN, window_end: 12 * MIN }), 'touching windows do not overlap').to.equal(false);
    expect(c.verdict).to.equal('hold');
    expect(c.reason).to.match(/too few labels/);
  });

  it('the event-time range keeps mentions whose window starts in [from, to); shadows are compared one by one', () => {
    const early = mention({ window_start: 0, window_end: MIN });
    const late = mention({ window_start: 60 * MIN, window_end: 61 * MIN });
    const report = shadowReport({ live: [early, late], shadow: [shadowOf(early, 'x'), shadowOf(late, 'y')], labels: [], fromMs: 30 * MIN, toMs: 90 * MIN });
    expect(report.comparisons.map((c) => [c.shadow, c.live.mentions, c.shadowSide.mentions])).to.deep.equal([['x', 1, 0], ['y', 1, 1]]);
  });

  it('a shadow with halved levels (more mentions, many false) is a regression; a better one with new true mentions is promotable', () => {
    const live = Array.from({ length: 20 }, (_, i) => mention({ window_start: i * 10 * MIN, window_end: (i * 10 + 1) * MIN }));
    const liveLabels = live.map((m, i) => label(m, i !== 0)); // 19/20
    // Halved: the same 20 and 20 more false alarms.
    const halved = [...live.map((m) => shadowOf(m, 'halved')), ...Array.from({ length: 20 }, (_, i) => shadowOf(mention({ segment: 'noise', window_start: i * 10 * MIN, window_end: (i * 10 + 1) * MIN }), 'halved'))];
    // Better: the 19 true ones and 5 new true ones, no false alarm.
    const better = [...live.slice(1).map((m) => shadowOf(m, 'better')), ...Array.from({ length: 5 }, (_, i) => shadowOf(mention({ segment: 'rare', window_start: i * 10 * MIN, window_end: (i * 10 + 1) * MIN }), 'better'))];
    const labels = [...liveLabels, ...halved.map((m) => label(m, m.segment !== 'noise' && m.mention_id !== `shadow:halved:${live[0]!.mention_id}`)), ...better.map((m) => label(m, true))];
    const report = shadowReport({ live, shadow: [...halved, ...better], labels });
    const verdict = Object.fromEntries(report.comparisons.map((c) => [c.shadow, c.verdict]));
    expect(verdict).to.deep.equal({ better: 'promote', halved: 'regression' });
    const markdown = shadowReportMarkdown(report);
    expect(markdown).to.match(/## halved: \*\*regression\*\*/).and.to.match(/## better: \*\*promote\*\*/).and.to.match(/Rule \(10 labels each side at least/);
  });

  it('property: the verdict never goes down as the shadow’s precision goes up, nor up as live’s does (fixed label counts)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 3 }), fc.double({ min: 0.5, max: 0.99, noNaN: true }), (nLive, nShadow, k, shadowOnlyTrue, target) => {
        const rule = { ...RULE, targetPrecision: target };
        const liveTp = Math.min(k, nLive);
        const rank = (shadowTp: number, lTp = liveTp) => VERDICT_RANK[shadowVerdict({ truePositives: lTp, falsePositives: nLive - lTp }, { truePositives: shadowTp, falsePositives: nShadow - shadowTp }, shadowOnlyTrue, rule).verdict];
        for (let tp = 0; tp < nShadow; tp++) if (rank(tp + 1) < rank(tp)) return false;
        const shadowTp = Math.min(k, nShadow);
        for (let tp = 0; tp < nLive; tp++) if (rank(shadowTp, tp + 1) > rank(shadowTp, tp)) return false;
        return true;
      }),
    );
  });
});
