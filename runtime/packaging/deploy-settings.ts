/**
 * A topology's deploy settings (`topologies/<name>/deploy.yaml`, optional): resources, scaling and the
 * environment the container gets. Validated with zod when `signalpath build` starts, so a typo fails
 * the build with the field's path instead of producing a manifest Kubernetes rejects later.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../config.js';

const quantity = z.union([z.string().regex(/^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti|k|M|G)?$/, 'expected a Kubernetes quantity, e.g. 500m, 1, 512Mi'), z.number().positive()]).transform(String);
const resources = z.strictObject({ cpu: quantity, memory: quantity });

export const DeploySettingsSchema = z.strictObject({
  resources: z
    .strictObject({ requests: resources, limits: resources })
    .default({ requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '1', memory: '1Gi' } }),
  /** Fewest replicas KEDA keeps (0 lets it scale to zero when there is no lag). */
  minReplicas: z.number().int().min(0).max(10_000).default(1),
  /** Lag per replica KEDA aims for. */
  lagThreshold: z.number().int().min(1).default(1000),
  /** Extra container environment (ConfigMap): SIGNALPATH_*, KAFKA_BROKERS, OTEL_*, topology settings. */
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name'), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
});

export type DeploySettings = z.output<typeof DeploySettingsSchema>;

/** Reads `<topologyDir>/deploy.yaml`, or the defaults when there is none. */
export function readDeploySettings(topologyDir: string): DeploySettings {
  const file = path.join(topologyDir, 'deploy.yaml');
  const raw: unknown = existsSync(file) ? (parse(readFileSync(file, 'utf8')) ?? {}) : {};
  const parsed = DeploySettingsSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(top level)'}: ${issue.message}`).join('; ');
    throw new ConfigError(`invalid ${file}: ${issues}`);
  }
  return parsed.data;
}
