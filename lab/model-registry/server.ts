/**
 * The model-registry service: a real HTTP server on loopback (node:http) serving per-model metadata
 * ({@link ModelMetadata}) as JSON, with a configurable heavy-tailed response time and error rate, so
 * that enrichment meets what a real lookup service does to a stream (slow tails, 5xx, keep-alive).
 *
 * Routes:
 * - `GET /models/<id>` → 200 metadata, 404 unknown model, 503 injected failure;
 * - `GET /models?ids=a,b,c` → 200 `{ models: { id: metadata } }` (batched lookups; unknown ids absent);
 * - `GET /health` → 200 `{ ok: true, requests }`.
 *
 * Response time per request: lognormal with median `latencyMedianMs` and shape `latencySigma`, and
 * with probability `tailProbability` a Pareto(α = `tailAlpha`) multiple of `tailScaleMs` on top —
 * most answers are quick, a few are very slow. Draws come from a seeded generator.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SeededRandom } from '../../core/random.js';
import { modelMetadata, type MetadataOptions, type ModelMetadata } from './metadata.js';

export type { ModelMetadata } from './metadata.js';

export interface ModelRegistryOptions extends MetadataOptions {
  /** TCP port; 0 picks a free one. Default 0. */
  readonly port?: number;
  /** Address to listen on. Default 127.0.0.1; 0.0.0.0 in a container (compose.yaml's model-registry). */
  readonly host?: string;
  /** Median response time, ms, ≥ 0. Default 2. */
  readonly latencyMedianMs?: number;
  /** Lognormal shape of the response time, ≥ 0. Default 0.5. */
  readonly latencySigma?: number;
  /** Share of requests that get a slow tail on top, [0, 1]. Default 0.01. */
  readonly tailProbability?: number;
  /** Scale of the slow tail, ms. Default 50. */
  readonly tailScaleMs?: number;
  /** Pareto shape of the slow tail (smaller: heavier), > 0. Default 1.5. */
  readonly tailAlpha?: number;
  /** Share of requests answered 503, [0, 1]. Default 0.01. */
  readonly errorRate?: number;
  /** Seed of the latency and error draws. Default 1. */
  readonly seed?: number;
}

export interface ModelRegistry {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** Requests answered so far (all routes, all statuses). */
  requests(): number;
  stop(): Promise<void>;
}

function checkRange(name: string, value: number, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new RangeError(`startModelRegistry: option '${name}' must be a number in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

/** Starts the registry (on 127.0.0.1 unless `host` says otherwise); resolves once it listens. */
export async function startModelRegistry(options: ModelRegistryOptions = {}): Promise<ModelRegistry> {
  const port = checkRange('port', options.port ?? 0, 0, 65535);
  const host = options.host ?? '127.0.0.1';
  const latencyMedianMs = checkRange('latencyMedianMs', options.latencyMedianMs ?? 2, 0, 60_000);
  const latencySigma = checkRange('latencySigma', options.latencySigma ?? 0.5, 0, 10);
  const tailProbability = checkRange('tailProbability', options.tailProbability ?? 0.01, 0, 1);
  const tailScaleMs = checkRange('tailScaleMs', options.tailScaleMs ?? 50, 0, 600_000);
  const tailAlpha = checkRange('tailAlpha', options.tailAlpha ?? 1.5, 0.01, 100);
  const errorRate = checkRange('errorRate', options.errorRate ?? 0.01, 0, 1);
  const random = SeededRandom.fromSeed(options.seed ?? 1);
  let requests = 0;

  const delayMs = (): number => {
    const normal = random.nextGaussian();
    let ms = latencyMedianMs * Math.exp(latencySigma * normal);
    if (random.nextFloat() < tailProbability) ms += tailScaleMs * Math.pow(random.nextOpenFloat(), -1 / tailAlpha);
    return Math.min(ms, 120_000);
  };

  const answer = (res: http.ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const server = http.createServer((req, res) => {
    requests++;
    const url = new URL(req.url ?? '/', 'http://registry');
    if (req.method !== 'GET') return answer(res, 405, { error: 'only GET' });
    if (url.pathname === '/health') return answer(res, 200, { ok: true, requests });
    const failing = random.nextFloat() < errorRate;
    const respond = (): void => {
      if (res.destroyed) return;
      if (failing) return answer(res, 503, { error: 'injected failure' });
      const single = /^\/models\/([^/]+)$/.exec(url.pathname);
      if (single) {
        const metadata = modelMetadata(decodeURIComponent(single[1]!), options);
        return metadata ? answer(res, 200, metadata) : answer(res, 404, { error: `unknown model ${single[1]}` });
      }
      if (url.pathname === '/models') {
        const models: Record<string, ModelMetadata> = {};
        for (const id of (url.searchParams.get('ids') ?? '').split(',').filter(Boolean)) {
          const metadata = modelMetadata(id, options);
          if (metadata) models[id] = metadata;
        }
        return answer(res, 200, { models });
      }
      answer(res, 404, { error: 'no such route' });
    };
    setTimeout(respond, delayMs());
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`,
    requests: () => requests,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
