/**
 * The compose service of a built topology: its image built from dist/<topology>/, pointed at the
 * Redpanda service of compose.yaml. `signalpath build` writes it beside the Dockerfile and adds it to
 * compose.yaml (replacing an older entry of the same name, keeping the file's comments), so
 * `docker compose up` runs the broker, the console, the model registry and every built topology.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isMap, parseDocument } from 'yaml';

export interface ComposeServiceInput {
  readonly topologyName: string;
  /** Build context relative to compose.yaml, e.g. `./dist/demo`. */
  readonly context: string;
  readonly env: Readonly<Record<string, string>>;
}

export function composeService({ topologyName, context, env }: ComposeServiceInput): Record<string, unknown> & { image: string } {
  return {
    build: { context },
    image: `signalpath-${topologyName}:latest`,
    environment: {
      KAFKA_BROKERS: 'redpanda:9092',
      SCHEMA_REGISTRY_URL: 'http://redpanda:8081',
      ...env,
    },
    depends_on: { redpanda: { condition: 'service_healthy' } },
    // The image's tini forwards `docker compose stop`'s SIGTERM; give the drain its time.
    stop_grace_period: '45s',
    restart: 'on-failure',
  };
}

/** Adds (or replaces) `services.<topologyName>` in the compose file. */
export function addComposeService(composeFile: string, topologyName: string, service: Record<string, unknown>): void {
  if (!existsSync(composeFile)) throw new Error(`${composeFile} does not exist`);
  const document = parseDocument(readFileSync(composeFile, 'utf8'));
  if (document.errors.length > 0) throw new Error(`${composeFile}: ${document.errors[0]!.message}`);
  const services = document.get('services');
  if (!isMap(services)) throw new Error(`${composeFile} has no services map`);
  // Replace only what an earlier build wrote: a topology must not overwrite redpanda or the registry.
  const existing = services.get(topologyName);
  if (existing !== undefined && (!isMap(existing) || existing.get('image') !== service.image)) {
    throw new Error(`${composeFile} already has a service "${topologyName}" that is not this topology's image (${String(service.image)}); rename the topology or that service`);
  }
  services.set(topologyName, document.createNode(service));
  writeFileSync(composeFile, document.toString({ lineWidth: 0, flowCollectionPadding: false }));
}
