/**
 * What the model registry knows about a model: owner, expected latency, feature ranges and alert
 * thresholds. Derived deterministically from the model id (a hash), so the registry needs no data
 * file and every run of the lab sees the same metadata. The record's shape is the one model-monitor's
 * registry client reads (topologies/model-monitor/registry-client.ts).
 */
import type { ModelMetadata } from '../../topologies/model-monitor/registry-client.js';

export type { ModelMetadata };

export interface MetadataOptions {
  /** Models the registry knows: `model-000` … `model-<n-1>`. Default 1000. */
  readonly models?: number;
  /** Features per model. Default 4. */
  readonly features?: number;
  /** Thresholds by field served for every model. Default none (the detectors' own thresholds hold). */
  readonly thresholds?: Readonly<Record<string, number>>;
}

const TEAMS = ['search', 'ads', 'assist', 'vision', 'speech', 'risk', 'growth', 'core-ml'];

/** FNV-1a, for stable per-model variety. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The metadata of `modelId`, or undefined when the registry does not know it. */
export function modelMetadata(modelId: string, options: MetadataOptions = {}): ModelMetadata | undefined {
  const models = options.models ?? 1000;
  const match = /^model-(\d+)$/.exec(modelId);
  if (match === null || Number(match[1]) >= models) return undefined;
  const h = hash(modelId);
  const features = options.features ?? 4;
  return {
    model_id: modelId,
    owner: `team-${TEAMS[h % TEAMS.length]!}`,
    expected_latency_ms: 60 + (h % 80),
    feature_ranges: Array.from({ length: features }, () => [-4, 4] as const),
    thresholds: { ...options.thresholds },
  };
}
