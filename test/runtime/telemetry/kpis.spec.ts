import { expect } from 'chai';
import fc from 'fast-check';
import { BucketHistogram } from '../../../runtime/telemetry/bucket-histogram.js';
import { coefficientOfVariation, KpiTelemetry } from '../../../runtime/telemetry/kpis.js';
import { LabelFeedback, recallAtPrecision } from '../../../runtime/telemetry/label-feedback.js';
import { bucketPercentile, TailRecovery } from '../../../runtime/telemetry/tail-recovery.js';
import { Registry } from 'prom-client';

/** `name{labels} value` → value from Prometheus text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('telemetry: KPIs', () => {
  it('recall at precision is the best recall of any score cut-off at that precision (brute force)', () => {
    const labelled = fc.array(fc.record({ score: fc.integer({ min: 0, max: 20 }), truePositive: fc.boolean() }), { maxLength: 60 });
    fc.assert(
      fc.property(labelled, (pairs) => {
        const tiers = [0.5, 0.8, 0.9, 0.95];
        const got = recallAtPrecision(pairs, tiers);
        const positives = pairs.filter((p) => p.truePositive).length;
        if (positives === 0) return got.every((r) => r.recall === null);
        // Every cut-off "score ≥ c" over the scores present.
        for (const [t, tier] of tiers.entries()) {
          let best = 0;
          for (const cut of new Set(pairs.map((p) => p.score))) {
            const kept = pairs.filter((p) => p.score >= cut);
            const tp = kept.filter((p) => p.truePositive).length;
            if (tp / kept.length >= tier) best = Math.max(best, tp / positives);
          }
          expect(got[t]!.recall).to.be.closeTo(best, 1e-12);
        }
        // A stricter tier never has more recall.
        for (let t = 1; t < got.length; t++) expect(got[t]!.recall!).to.be.at.most(got[t - 1]!.recall!);
        return true;
      }),
    );
  });

  it('labels: precision and latency from the first label, relabels change the verdict only, unknown mentions counted apart', () => {
    const feedback = new LabelFeedback();
    feedback.mentionEmitted('m1', 0.9, 1_000);
    feedback.mentionEmitted('m2', 0.5, 2_000);
    feedback.mentionEmitted('m3', 0.7, 3_000);
    expect(feedback.labelReceived('m1', 'TRUE_POSITIVE', 61_000)).to.equal(true);
    expect(feedback.labelReceived('m2', 'FALSE_POSITIVE', 12_000)).to.equal(true);
    expect(feedback.labelReceived('m3', 'UNSURE', 4_000)).to.equal(true);
    expect(feedback.labelReceived('nobody', 'TRUE_POSITIVE', 5_000)).to.equal(false);
    expect(feedback.precision()).to.equal(0.5);
    // m2 relabelled true: precision 1, latency still three observations (60 s, 10 s, 1 s).
    feedback.labelReceived('m2', 'TRUE_POSITIVE', 99_000);
    expect(feedback.precision()).to.equal(1);
    expect(feedback.latency.count).to.equal(3);
    expect(feedback.latency.sumMs).to.equal(60_000 + 10_000 + 1_000);
    expect(feedback.verdicts).to.deep.equal({ TRUE_POSITIVE: 2, FALSE_POSITIVE: 1, UNSURE: 1, unmatched: 1 });
    expect(feedback.recallAtPrecision([0.9])).to.deep.equal([{ precision: 0.9, recall: 1 }]);
  });

  it('tail recovery: a spike above 2× the running p99 lasts until an interval is back under it', () => {
    const recovery = new TailRecovery(2);
    recovery.observe(0, 12, Infinity); // warming up: no threshold
    recovery.observe(1_000, 15, 10);
    expect(recovery.activeSinceMs).to.equal(null);
    recovery.observe(2_000, 50, 10); // spike: threshold frozen at 20 ms
    recovery.observe(3_000, 60, 40); // the running p99 follows the spike; the frozen threshold does not
    recovery.observe(4_000, null, 40); // no records: still in the spike
    expect(recovery.activeForMs(4_500)).to.equal(2_500);
    recovery.observe(5_000, 21, 40);
    recovery.observe(6_000, 19, 40);
    expect(recovery.lastRecoveryMs).to.equal(4_000);
    expect(recovery.episodes).to.equal(1);
    expect(recovery.activeSinceMs).to.equal(null);
  });

  it('bucket percentile interpolates within the bucket and coefficient of variation is std / mean', () => {
    expect(bucketPercentile([1, 2, 4], [0, 0, 0, 0], 99)).to.equal(null);
    expect(bucketPercentile([1, 2, 4], [0, 10, 0, 0], 50)).to.equal(1.5);
    expect(bucketPercentile([1, 2, 4], [0, 0, 0, 5], 99)).to.equal(4);
    expect(coefficientOfVariation([10, 10, 10, 10])).to.equal(0);
    expect(coefficientOfVariation([0, 20])).to.equal(1);
    expect(coefficientOfVariation([])).to.equal(null);
  });

  it('hands every label to the topology’s onLabel too, known mention or not', () => {
    const told: string[] = [];
    const kpis = new KpiTelemetry({ topology: 't', events: () => 0, e2e: new BucketHistogram(), runningP99Ms: () => 1, sources: { mentionOf: (value) => value as { id: string; score: number }, onLabel: (id, verdict, atMs) => told.push(`${id} ${verdict} ${atMs}`) } });
    kpis.mentionEmitted({ id: 'm1', score: 1 }, 0);
    kpis.labelReceived('m1', 'TRUE_POSITIVE', 5);
    kpis.labelReceived('elsewhere', 'UNSURE', 6);
    expect(told).to.deep.equal(['m1 TRUE_POSITIVE 5', 'elsewhere UNSURE 6']);
  });

  it('exports the KPIs of the sources a topology declares, and nothing for the ones it does not', async () => {
    let events = 0;
    const e2e = new BucketHistogram();
    let spend = 0;
    const lanes = [
      { lane: 0, records: 0, busyMs: 0, queued: 0 },
      { lane: 1, records: 0, busyMs: 0, queued: 3 },
    ];
    const kpis = new KpiTelemetry({
      topology: 't',
      events: () => events,
      e2e,
      runningP99Ms: () => 1,
      sources: {
        mentionOutputs: ['mentions'],
        mentionOf: (value) => value as { id: string; score: number },
        spend: { spendUsd: () => spend },
        cache: () => ({ hits: 3, misses: 1 }),
        lanes: () => lanes,
        budget: () => [{ arm: 'uniform', share: 0.25, records: 10 }, { arm: 'adaptive', share: 0.75, records: 30 }],
      },
    });
    const registry = new Registry();
    kpis.register(registry);
    kpis.tick(0);
    events = 20_000;
    spend = 2;
    for (let i = 0; i < 4; i++) kpis.mentionEmitted({ id: `m${i}`, score: i }, 1_000);
    kpis.labelReceived('m3', 'TRUE_POSITIVE', 31_000);
    kpis.labelReceived('m0', 'FALSE_POSITIVE', 31_000);
    lanes[0] = { ...lanes[0]!, records: 30 };
    lanes[1] = { ...lanes[1]!, records: 10 };
    // A second of 1 ms records, then a second of 500 ms ones: a spike against the running 1 ms.
    for (let i = 0; i < 100; i++) e2e.observe(1);
    kpis.tick(1_000);
    for (let i = 0; i < 100; i++) e2e.observe(500);
    kpis.tick(2_000);
    for (let i = 0; i < 100; i++) e2e.observe(1);
    kpis.tick(3_500);

    const text = await registry.metrics();
    expect(sample(text, 'signalpath_kpi_events_total{topology="t"}')).to.equal(20_000);
    expect(sample(text, 'signalpath_kpi_mentions_per_10k_events{topology="t"}')).to.equal(2);
    expect(sample(text, 'signalpath_kpi_mentions_per_1k_usd{topology="t"}')).to.equal(2_000);
    expect(sample(text, 'signalpath_kpi_precision{topology="t"}')).to.equal(0.5);
    expect(sample(text, 'signalpath_kpi_recall_at_precision{topology="t",precision="0.9"}')).to.equal(1);
    expect(sample(text, 'signalpath_kpi_feedback_latency_seconds_count{topology="t"}')).to.equal(2);
    expect(sample(text, 'signalpath_kpi_cache_hit_ratio{topology="t"}')).to.equal(0.75);
    expect(sample(text, 'signalpath_kpi_lane_load_cv{topology="t"}')).to.equal(0.5);
    expect(sample(text, 'signalpath_kpi_lane_queued{topology="t",lane="1"}')).to.equal(3);
    expect(sample(text, 'signalpath_kpi_budget_share{topology="t",arm="adaptive"}')).to.equal(0.75);
    expect(sample(text, 'signalpath_kpi_tail_recovery_seconds{topology="t"}')).to.equal(1.5);

    // A topology that declares nothing exports only what the runtime measures itself.
    const bare = new Registry();
    new KpiTelemetry({ topology: 'b', events: () => 5, e2e: new BucketHistogram(), runningP99Ms: () => Infinity, sources: {} }).register(bare);
    const names = (await bare.getMetricsAsJSON()).map((m) => m.name).sort();
    expect(names).to.deep.equal(['signalpath_kpi_events_total', 'signalpath_kpi_tail_recovery_seconds', 'signalpath_kpi_tail_spike_active_seconds', 'signalpath_kpi_tail_spikes_total']);
    expect(() => new KpiTelemetry({ topology: 'x', events: () => 0, e2e: new BucketHistogram(), runningP99Ms: () => 1, sources: { labelsTopic: 'labels' } })).to.throw(TypeError, /mentionOf/);
  });
});
