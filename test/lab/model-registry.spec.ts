import { expect } from 'chai';
import { startModelRegistry } from '../../lab/model-registry/index.js';
import { registryLookup } from '../../topologies/model-monitor/registry-client.js';

describe('lab: model registry', () => {
  it('serves metadata over HTTP on loopback, 404 for unknown models, and stops', async () => {
    const registry = await startModelRegistry({ port: 0, errorRate: 0, models: 10, thresholds: { latency_ms: 0.99999 } });
    try {
      expect(registry.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      const lookup = registryLookup(registry.url);
      const metadata = await lookup('model-003', new AbortController().signal);
      expect(metadata?.model_id).to.equal('model-003');
      expect(metadata?.owner).to.match(/^team-/);
      expect(metadata?.thresholds).to.deep.equal({ latency_ms: 0.99999 });
      expect(metadata?.feature_ranges).to.have.length(4);
      expect(await lookup('model-999', new AbortController().signal)).to.equal(undefined);
      const batch = (await (await fetch(`${registry.url}/models?ids=model-001,model-002,nope`)).json()) as { models: Record<string, unknown> };
      expect(Object.keys(batch.models)).to.deep.equal(['model-001', 'model-002']);
    } finally {
      await registry.stop();
    }
  });

  it('injects errors at the configured rate (503, retriable)', async () => {
    const registry = await startModelRegistry({ errorRate: 1, latencyMedianMs: 0 });
    try {
      const error = await registryLookup(registry.url)('model-001', new AbortController().signal).catch((e: unknown) => e);
      expect((error as { status: number }).status).to.equal(503);
    } finally {
      await registry.stop();
    }
  });

  it('rejects a bad option with its name', async () => {
    const error = await startModelRegistry({ errorRate: 2 }).catch((e: unknown) => e);
    expect(String(error)).to.contain("'errorRate'");
  });
});
