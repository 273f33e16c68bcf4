/**
 * model-monitor's model-registry client, the lookup its `enrich` step uses: `fetch` over a keep-alive
 * connection pool (Node's fetch keeps connections alive by default), aborted through the operator's
 * AbortSignal. A 404 means "not found" (undefined, cached as a negative entry); a 5xx is a retriable
 * error; other 4xx are not retried.
 */

/** What the model registry knows about a model: owner, expected latency, feature ranges and alert thresholds. */
export interface ModelMetadata {
  readonly model_id: string;
  readonly owner: string;
  /** The latency the owners expect at the median, ms. */
  readonly expected_latency_ms: number;
  /** Expected [min, max] of each `features[i]`. */
  readonly feature_ranges: readonly (readonly [number, number])[];
  /**
   * Detector score thresholds (in [0, 1]) by field, where the owners want fewer, surer alerts than
   * the detectors' own thresholds give (a registry threshold can only raise a detector's).
   */
  readonly thresholds: Readonly<Record<string, number>>;
}

export class RegistryHttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'RegistryHttpError';
  }
}

/** A `Lookup` for enrich: metadata of one model from the registry at `baseUrl`. */
export function registryLookup(baseUrl: string): (modelId: string, signal: AbortSignal) => Promise<ModelMetadata | undefined> {
  const base = baseUrl.replace(/\/+$/, '');
  return async (modelId, signal) => {
    const response = await fetch(`${base}/models/${encodeURIComponent(modelId)}`, { signal, headers: { connection: 'keep-alive' } });
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new RegistryHttpError(response.status, `model registry answered ${response.status} for ${modelId}`);
    }
    return (await response.json()) as ModelMetadata;
  };
}
