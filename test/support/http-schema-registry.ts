/**
 * A minimal Confluent-compatible schema registry over HTTP, for the integration tests: the four
 * endpoints signalpath's registry client calls (register, look up an id, fetch a schema by id), shared
 * by a test's producer and the topology it runs, so the Confluent wire format travels end to end
 * through the real REST client. It checks no compatibility: no real registry could be built or
 * installed from the package registries this project reaches (docs/interop.md says what was tried).
 */
import { createServer, type Server } from 'node:http';

export interface HttpSchemaRegistry {
  /** `http://127.0.0.1:<port>`, for SCHEMA_REGISTRY_URL. */
  readonly url: string;
  /** Requests served, by method and path pattern. */
  readonly requests: string[];
  close(): Promise<void>;
}

export async function startHttpSchemaRegistry(): Promise<HttpSchemaRegistry> {
  const ids = new Map<string, number>(); // canonical schema text → id
  const schemas = new Map<number, string>();
  const subjects = new Map<string, number[]>();
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://registry');
      const reply = (status: number, value: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
        res.end(JSON.stringify(value));
      };
      let match: RegExpExecArray | null;
      if (req.method === 'POST' && (match = /^\/subjects\/([^/]+)(\/versions)?$/.exec(url.pathname))) {
        requests.push(`POST /subjects/${match[2] ? '{s}/versions' : '{s}'}`);
        const subject = decodeURIComponent(match[1]!);
        const schema = JSON.stringify(JSON.parse((JSON.parse(body) as { schema: string }).schema));
        let id = ids.get(schema);
        if (match[2] === undefined) {
          // Look-up only: found under this subject, or 404 as Confluent's registry answers.
          return id !== undefined && subjects.get(subject)?.includes(id) ? reply(200, { id, subject, schema }) : reply(404, { error_code: 40403, message: 'Schema not found' });
        }
        if (id === undefined) {
          id = schemas.size + 1;
          ids.set(schema, id);
          schemas.set(id, schema);
        }
        const versions = subjects.get(subject) ?? [];
        if (!versions.includes(id)) versions.push(id);
        subjects.set(subject, versions);
        return reply(200, { id });
      }
      if (req.method === 'GET' && (match = /^\/schemas\/ids\/(\d+)$/.exec(url.pathname))) {
        requests.push('GET /schemas/ids/{id}');
        const schema = schemas.get(Number(match[1]));
        return schema === undefined ? reply(404, { error_code: 40403, message: 'Schema not found' }) : reply(200, { schema });
      }
      requests.push(`${req.method} ${url.pathname} (unsupported)`);
      reply(404, { error_code: 404, message: 'not supported by the test registry' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('test registry: no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
