import { expect } from 'chai';
import { from, lastValueFrom, toArray } from 'rxjs';
import { generateStream } from '../../lab/generator/index.js';
import { startModelRegistry, type ModelRegistry } from '../../lab/model-registry/index.js';
import { coefficientOfVariation } from '../../lab/evaluate/run-cost.js';
import { ConfigError } from '../../runtime/config.js';
import { testEnvelope } from '../../core/envelope.js';
import { TopologyTestDriver } from '../../runtime/testing/topology-test-driver.js';
import type { InferenceEvent, Mention } from '../../schemas/index.js';
import { readModelMonitorConfig } from '../../topologies/model-monitor/config.js';
import { modelMonitorReport } from '../../topologies/model-monitor/run-report.js';
import { reviewLane } from '../../topologies/model-monitor/review-lane.js';
import { thresholdFor } from '../../topologies/model-monitor/thresholds.js';
import { deriveThresholds } from '../../lab/tuning/model-monitor-thresholds.js';
import { createDetector } from '../../operators/parallel-detect/index.js';
import { createModelMonitor } from '../../topologies/model-monitor/topology.js';

describe('topology model-monitor', function () {
  this.timeout(60_000);
  let registry: ModelRegistry;
  before(async () => {
    registry = await startModelRegistry({ errorRate: 0.02 });
  });
  after(() => registry.stop());

  it('reads its configuration from the environment and names a bad variable', () => {
    expect(readModelMonitorConfig({}).registryUrl, 'MODEL_REGISTRY_URL is optional: enrichment is off without it').to.equal(undefined);
    expect(() => readModelMonitorConfig({ MODEL_REGISTRY_URL: 'http://127.0.0.1:1', MODEL_MONITOR_LANES: '0' })).to.throw(ConfigError, 'MODEL_MONITOR_LANES');
    expect(() => readModelMonitorConfig({ MODEL_REGISTRY_URL: 'http://127.0.0.1:1', MODEL_MONITOR_DETECTORS: 'ewma-zscore,nope' })).to.throw(ConfigError, 'MODEL_MONITOR_DETECTORS');
    expect(() => readModelMonitorConfig({ MODEL_REGISTRY_URL: 'http://127.0.0.1:1', MODEL_MONITOR_THRESHOLD_TUNING: 'recall' })).to.throw(ConfigError, /MODEL_MONITOR_THRESHOLD_TUNING.*precision.*f-beta/);
    expect(readModelMonitorConfig({ MODEL_REGISTRY_URL: 'http://127.0.0.1:1', MODEL_MONITOR_THRESHOLD_TUNING: 'precision' }).thresholdTuning).to.equal('precision');
    expect(() => readModelMonitorConfig({ MODEL_REGISTRY_URL: 'http://127.0.0.1:1', MODEL_MONITOR_BANDIT_DISCOUNT: '0' })).to.throw(ConfigError, 'MODEL_MONITOR_BANDIT_DISCOUNT');
    const config = readModelMonitorConfig({ MODEL_REGISTRY_URL: 'http://127.0.0.1:1' });
    expect(config).to.include({ sampling: 'bandit', banditDiscount: 0.95, reviewShare: 0.07, lanes: 4, dedupMode: 'cluster-aware', enrichMode: 'async', thresholdTuning: 'f-beta', laneKey: 'model-segment', boundedLoadEpsilon: 0.02 });
    expect(() => readModelMonitorConfig({ MODEL_REGISTRY_URL: 'http://127.0.0.1:1', MODEL_MONITOR_LANE_KEY: 'segment' })).to.throw(ConfigError, /MODEL_MONITOR_LANE_KEY.*model.*model-segment/);
    expect(() => readModelMonitorConfig({ MODEL_REGISTRY_URL: 'http://127.0.0.1:1', MODEL_MONITOR_BOUNDED_LOAD_EPSILON: '-1' })).to.throw(ConfigError, 'MODEL_MONITOR_BOUNDED_LOAD_EPSILON');
  });

  it('threshold tuning: precision-tuned thresholds are never below the F-beta ones; an untuned detector keeps its own', () => {
    for (const detector of ['ewma-zscore', 'cusum', 'mad', 'page-hinkley']) {
      expect(thresholdFor(detector, 'precision')).to.be.at.least(thresholdFor(detector, 'f-beta'));
      expect(thresholdFor(detector, 'f-beta')).to.be.within(0, 1);
    }
    expect(thresholdFor('adwin', 'precision')).to.equal(createDetector('adwin').threshold);
    // Derivation on a small labelled stream (its own seed): both thresholds exist and are ordered.
    const derived = deriveThresholds(['ewma-zscore'], ['latency_ms', 'confidence'], { count: 20_000, seed: 5, models: 5, incidents: 4 })['ewma-zscore']!;
    expect(derived['f-beta']).to.be.within(0, 1);
    expect(derived.precision).to.be.at.least(derived['f-beta']);
  });

  it('turns a generated stream into mentions, copies the borderline ones to review, dead-letters a bad record, settles every input', async () => {
    const { topology, probe } = createModelMonitor(readModelMonitorConfig({}, { registryUrl: registry.url }));
    const stream = generateStream({ count: 60_000, seed: 7 });
    const events = [...stream.events];
    const bad: InferenceEvent = { ...events[100]!, event_id: 'bad-1', latency_ms: Number.NaN };
    events.splice(101, 0, bad);
    const driver = new TopologyTestDriver(topology, 5_000);
    for (const event of events) driver.pipeInput(event.model_id, event, event.ts);
    const result = await driver.completeAsync();

    expect(result.settlements.size).to.equal(events.length);
    expect(result.deadLetters.map((d) => [d.step, (d.value as InferenceEvent).event_id])).to.deep.equal([['validate', 'bad-1']]);
    const mentions = result.outputs.mentions as Mention[];
    const review = result.outputs.review as Mention[];
    expect(mentions.length).to.be.greaterThan(0);
    expect(review.length).to.be.at.most(Math.ceil(0.07 * mentions.length));
    expect(review.length).to.be.at.least(Math.floor(0.07 * mentions.length) - 1);
    const ids = new Set(mentions.map((m) => m.mention_id));
    for (const m of review) expect(ids.has(m.mention_id)).to.equal(true);
    // min-evidence counts over the evidence windows, so a mention may carry one event of its own window.
    expect(mentions.every((m) => m.event_count >= 1 && m.attributes['threshold'] !== undefined)).to.equal(true);
    // The sampler let through about its budget, and the bandit decided every epoch.
    expect(probe.sampled / events.length).to.be.within(0.05, 0.12);
    expect(probe.allocations.length).to.be.greaterThan(5);
    expect(probe.enrich.lookups).to.be.greaterThan(0);
    // What enrichment delayed or failed is counted per record (enrich-delay.ts) and carried by the run report.
    expect(probe.enrichDelay.failed).to.equal(probe.enrich.failures);
    expect(probe.enrichDelay.delayedPastWindow + probe.enrichDelay.lateBeforeEnrich).to.be.at.most(probe.sampled);
    expect(probe.enrichDelay.affectedMentions).to.be.at.most(probe.mentions);
    expect(modelMonitorReport(probe)['enrich_delay']).to.deep.include({ failed: probe.enrich.failures, delayed_past_window: probe.enrichDelay.delayedPastWindow });
    // Lanes keyed by model × segment with loads bounded by recent records: the hot model does not load
    // one lane (keyed by model on the plain ring, the same stream leaves the lanes 30–70% apart).
    const laneRecords = probe.partition.lanes().map((lane) => lane.records);
    expect(laneRecords.reduce((a, b) => a + b, 0)).to.equal(probe.sampled);
    expect(coefficientOfVariation(laneRecords)).to.be.below(0.15);
  });

  it('review lane: the quota goes to the mentions closest to their threshold; both copies settle the input', async () => {
    const settled: string[] = [];
    const mentions = [0.9, 0.5, 0.99, 0.7, 0.98, 0.6, 0.3, 0.2, 0.1, 0.95].map((score, i) =>
      testEnvelope({ mention_id: `m${i}`, score, attributes: {} } as unknown as Mention, { offset: i, onSettled: (o) => settled.push(`${i}:${o}`) }),
    );
    const out = await lastValueFrom(from(mentions).pipe(reviewLane({ share: 0.2, batchMs: 10, thresholdOf: () => 1 }), toArray()));
    const reviewed = out.filter((e) => e.output === 'review').map((e) => e.value.mention_id);
    expect(reviewed).to.deep.equal(['m2', 'm4']);
    expect(out.filter((e) => e.output === 'mentions')).to.have.length(10);
    for (const e of out) e.settlement.settle('delivered');
    expect(settled).to.have.length(10);
  });
});
