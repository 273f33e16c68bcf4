import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { registryOptions } from '../../cli/registry-command.js';
import { ConfigError } from '../../runtime/config.js';
import { startModelRegistry } from '../../lab/model-registry/index.js';
import { registryLookup } from '../../topologies/model-monitor/registry-client.js';

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

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

describe('lab: the model registry on its own (signalpath registry, compose.yaml)', function () {
  this.timeout(60_000);

  it('lab/model-registry/main.ts serves /health and models from MODEL_REGISTRY_HOST/PORT, and stops on SIGTERM', async () => {
    const child = spawn(path.join(PROJECT_ROOT, 'node_modules/.bin/tsx'), [path.join(PROJECT_ROOT, 'lab/model-registry/main.ts')], {
      env: { ...process.env, MODEL_REGISTRY_HOST: '127.0.0.1', MODEL_REGISTRY_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString('utf8');
          const match = /model registry on (http:\/\/\S+)/.exec(out);
          if (match) resolve(match[1]!);
        });
        child.on('exit', (code) => reject(new Error(`exited ${code} before listening: ${out}`)));
      });
      const health = await fetch(`${url}/health`);
      expect(health.status).to.equal(200);
      const known = await fetch(`${url}/models/model-001`);
      expect([200, 503]).to.include(known.status); // 1% of answers are injected 503s
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).to.equal(0);
  });

  it('rejects a bad port with the variable and what it accepts', async () => {
    const child = spawn(path.join(PROJECT_ROOT, 'node_modules/.bin/tsx'), [path.join(PROJECT_ROOT, 'lab/model-registry/main.ts')], { env: { ...process.env, MODEL_REGISTRY_PORT: 'eighty' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).to.equal(2);
    expect(err).to.include('invalid MODEL_REGISTRY_PORT="eighty": expected a port number in [0, 65535]');
  });

  it('signalpath registry checks its flags, naming the flag and what it accepts', () => {
    const flags = { port: '0', host: '127.0.0.1', models: '10', latency: '2', errorRate: '0.01', seed: '1' };
    expect(registryOptions(flags)).to.deep.include({ port: 0, models: 10, latencyMedianMs: 2, errorRate: 0.01, seed: 1 });
    expect(() => registryOptions({ ...flags, port: '70000' })).to.throw(ConfigError, /--port 70000: expected a port number/);
    expect(() => registryOptions({ ...flags, errorRate: '2' })).to.throw(ConfigError, /--error-rate 2: expected a share in \[0, 1\]/);
    expect(() => registryOptions({ ...flags, models: '' })).to.throw(ConfigError, /--models/);
  });
});
