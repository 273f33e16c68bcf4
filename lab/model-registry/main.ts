/**
 * The model registry as a process of its own, for compose.yaml's `model-registry` service (the
 * repository mounted in a plain Node 24 image, run through tsx): `MODEL_REGISTRY_HOST` (default
 * 0.0.0.0) and `MODEL_REGISTRY_PORT` (default 8080). It imports the registry alone — no Kafka client,
 * no native module — so it runs in any Node 24 image. `signalpath registry` is the same from a shell.
 */
import { startModelRegistry } from './server.js';

const host = process.env['MODEL_REGISTRY_HOST'] ?? '0.0.0.0';
const portText = process.env['MODEL_REGISTRY_PORT'] ?? '8080';
const port = Number(portText);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`model registry: invalid MODEL_REGISTRY_PORT=${JSON.stringify(portText)}: expected a port number in [0, 65535]`);
  process.exit(2);
}
const registry = await startModelRegistry({ host, port });
console.log(`model registry on ${registry.url}`);
const stop = (): void => {
  void registry.stop().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
