/**
 * The registry client `enrich` uses: `fetch` over a keep-alive connection pool (Node's fetch keeps
 * connections alive by default), aborted through the operator's AbortSignal. A 404 means "not found"
 * (undefined, cached as a negative entry); a 5xx is a retriable error; other 4xx are not retried.
 */
import type { ModelMetadata } from './metadata.js';

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
