/**
 * model-monitor without a model registry (MODEL_REGISTRY_URL unset): enrichment is off, no lookup
 * leaves the process, every record settles, the change sketch still finds incidents, and the run
 * report and the enrich_enabled gauge say enrichment was off.
 */
import { expect } from 'chai';
import { generateStream } from '../../lab/generator/index.js';
import { TopologyTestDriver } from '../../runtime/testing/topology-test-driver.js';
import type { Mention } from '../../schemas/index.js';
import { readModelMonitorConfig } from '../../topologies/model-monitor/config.js';
import { modelMonitorReport } from '../../topologies/model-monitor/run-report.js';
import { createModelMonitor } from '../../topologies/model-monitor/topology.js';

describe('topology model-monitor: no model registry configured', function () {
  this.timeout(120_000);

  it('reads MODEL_REGISTRY_URL as optional, and still checks it when it is set', () => {
    expect(readModelMonitorConfig({}).registryUrl).to.equal(undefined);
    expect(() => readModelMonitorConfig({ MODEL_REGISTRY_URL: 'not a url' })).to.throw(/invalid MODEL_REGISTRY_URL="not a url": expected a URL/);
  });

  it('runs with enrichment off: every record settles without a lookup, incidents are still mentioned, the report says so', async () => {
    const config = readModelMonitorConfig({}, { sampleFraction: 0.1 });
    const { topology, probe } = createModelMonitor(config);
    const stream = generateStream({ count: 40_000, seed: 11, models: 8, incidents: 6, eventsPerSecond: 50 });
    const events = [...stream.events];
    const driver = new TopologyTestDriver(topology, 5_000);
    for (let i = 0; i < events.length; i += 500) {
      driver.pipe(events.slice(i, i + 500).map((event) => ({ key: event.model_id, value: event, eventTimeMs: event.ts })));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const result = await driver.completeAsync();
    expect(result.settlements.size).to.equal(events.length);
    expect(result.deadLetters).to.deep.equal([]);
    expect(probe.enrichmentEnabled).to.equal(false);
    expect(probe.notEnriched).to.be.greaterThan(0);
    expect(probe.enrich.failures).to.equal(0);
    const mentions = result.outputs['mentions'] as Mention[];
    expect(mentions.length).to.be.greaterThan(0);
    for (const m of mentions) expect(m.attributes['owner']).to.equal(undefined);
    const report = modelMonitorReport(probe) as { enrich: Record<string, unknown> };
    expect(report.enrich).to.include({ enabled: false });
    const gauge = topology.gauges?.find((g) => g.name === 'signalpath_enrich_enabled');
    expect(gauge?.read()).to.deep.equal([{ labels: { step: 'enrich-model' }, value: 0 }]);
  });
});
