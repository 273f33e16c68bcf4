/**
 * The runner's HTTP endpoints (node:http, no framework): `/metrics` (Prometheus text format),
 * `/healthz` (200 while the run has not failed) and `/readyz` (200 once partitions are assigned and
 * the consumer is caught up within its bound; the body says why not otherwise).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface Probe {
  readonly ok: boolean;
  readonly detail: Readonly<Record<string, unknown>>;
}

export interface HttpEndpointsOptions {
  readonly port: number;
  /** Default: all interfaces, as a scraper or a kubelet expects. */
  readonly host?: string;
  readonly registry: Registry;
  readonly health: () => Probe;
  readonly ready: () => Probe;
  /** More GET routes by exact path (the status page and its assets). */
  readonly routes?: Readonly<Record<string, () => { readonly contentType: string; readonly body: string | Buffer }>>;
}

export interface HttpEndpoints {
  readonly port: number;
  close(): Promise<void>;
}

export async function startHttpEndpoints(options: HttpEndpointsOptions): Promise<HttpEndpoints> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': options.registry.contentType }).end(text),
        (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(error)}\n`),
      );
      return;
    }
    if (path === '/healthz' || path === '/readyz') {
      const probe = path === '/healthz' ? options.health() : options.ready();
      response.writeHead(probe.ok ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify({ ok: probe.ok, ...probe.detail })}\n`);
      return;
    }
    const route = path === undefined ? undefined : options.routes?.[path];
    if (route !== undefined) {
      try {
        const { contentType, body } = route();
        response.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(body);
      } catch (error) {
        response.writeHead(500, { 'content-type': 'text/plain' }).end(`${path} failed: ${String(error)}\n`);
      }
      return;
    }
    const known = ['/metrics', '/healthz', '/readyz', ...Object.keys(options.routes ?? {}).filter((p) => !p.startsWith('/assets/'))];
    response.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: try ${known.join(', ')}\n`);
  });
  // Scrapes must not keep a stopping process alive.
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.unref();
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
