/**
 * `signalpath registry`: the lab's model registry on its own (lab/model-registry), for trying
 * model-monitor's enrichment without the lab: `MODEL_REGISTRY_URL=<the printed URL> signalpath run
 * model-monitor`. Its response time and error rate are settings, so enrichment can meet a slow or
 * failing lookup service on purpose.
 */
import { startModelRegistry, type ModelRegistryOptions } from '../lab/model-registry/index.js';
import { numberFlag } from './options.js';

export interface RegistryFlags {
  port: string;
  host: string;
  models: string;
  latency: string;
  errorRate: string;
  seed: string;
}


/** The registry options a command line asks for; throws ConfigError naming the flag. */
export function registryOptions(flags: RegistryFlags): ModelRegistryOptions {
  return {
    port: numberFlag('--port', flags.port, (x) => Number.isInteger(x) && x >= 0 && x <= 65_535, 'a port number in [0, 65535] (0: a free one)'),
    host: flags.host,
    models: numberFlag('--models', flags.models, (x) => Number.isInteger(x) && x >= 1, 'a whole number ≥ 1'),
    latencyMedianMs: numberFlag('--latency', flags.latency, (x) => Number.isFinite(x) && x >= 0, 'a median response time in ms ≥ 0'),
    errorRate: numberFlag('--error-rate', flags.errorRate, (x) => x >= 0 && x <= 1, 'a share in [0, 1]'),
    seed: numberFlag('--seed', flags.seed, Number.isInteger, 'a whole number'),
  };
}

export async function registryCommand(flags: RegistryFlags): Promise<void> {
  const registry = await startModelRegistry(registryOptions(flags));
  console.log(`model registry at ${registry.url} (models model-000 … model-${String(Number(flags.models) - 1).padStart(3, '0')}; other ids answer 404)`);
  console.log(`In another shell: export MODEL_REGISTRY_URL=${registry.url}`);
  console.log('Ctrl-C stops it.');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await registry.stop();
  console.log(`model registry stopped after ${registry.requests()} requests`);
}
