/**
 * Tracing follows the standard OTEL_* variables: it starts only when asked for, exports over OTLP
 * (http/protobuf by default, http/json, grpc) to the endpoint the variables name, with the service
 * name and resource attributes they give, and refuses an exporter or protocol it does not know.
 * The export tests run `startTracing` in a child process (it registers the global tracer provider)
 * against a collector stand-in on loopback.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { ConfigError } from '../../../runtime/config.js';
import { otlpProtocol, tracesExporters, tracingRequested } from '../../../runtime/telemetry/tracing.js';

interface Received {
  readonly path: string;
  readonly contentType: string;
  readonly body: Buffer;
}

/** Starts a collector stand-in, runs one traced span in a child process with `env`, returns what arrived. */
async function exportOneSpan(env: Record<string, string>): Promise<{ received: Received[]; stderr: string; code: number | null }> {
  const received: Received[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ path: request.url ?? '', contentType: String(request.headers['content-type']), body: Buffer.concat(chunks) });
      response.writeHead(200, { 'content-type': request.headers['content-type'] ?? 'application/json' }).end(request.headers['content-type']?.includes('json') ? '{}' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const script = [
    "import { trace } from '@opentelemetry/api';",
    "import { startTracing } from './runtime/telemetry/tracing.ts';",
    "const tracing = await startTracing('signalpath-test');",
    "if (!tracing.enabled) throw new Error('tracing did not start');",
    "trace.getTracer('signalpath').startSpan('signalpath.record').end();",
    'await tracing.shutdown();',
  ].join('\n');
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return { received, stderr, code };
}

describe('tracing from OTEL_* variables', () => {
  it('starts only when an exporter or an OTLP endpoint is set, and not when OTEL_SDK_DISABLED=true', () => {
    expect(tracingRequested({})).to.equal(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).to.equal(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).to.equal(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'console' })).to.equal(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'TRUE' })).to.equal(false);
  });

  it('reads the exporter list (default otlp; none turns tracing off) and refuses an unknown exporter, naming the variable', () => {
    expect(tracesExporters({})).to.deep.equal(['otlp']);
    expect(tracesExporters({ OTEL_TRACES_EXPORTER: 'console, otlp,console' })).to.deep.equal(['console', 'otlp']);
    expect(tracesExporters({ OTEL_TRACES_EXPORTER: 'none' })).to.deep.equal([]);
    expect(() => tracesExporters({ OTEL_TRACES_EXPORTER: 'zipkin' })).to.throw(ConfigError, /OTEL_TRACES_EXPORTER.*zipkin.*otlp, console, none/);
  });

  it('reads the OTLP protocol, the traces-specific variable first, and refuses an unknown one', () => {
    expect(otlpProtocol({})).to.equal('http/protobuf');
    expect(otlpProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).to.equal('grpc');
    expect(otlpProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' })).to.equal('http/json');
    expect(() => otlpProtocol({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'thrift' })).to.throw(ConfigError, /OTEL_EXPORTER_OTLP_TRACES_PROTOCOL.*thrift/);
  });

  it('exports spans as OTLP http/json to OTEL_EXPORTER_OTLP_ENDPOINT, with the default service name and OTEL_RESOURCE_ATTRIBUTES', async function () {
    this.timeout(60_000);
    const { received, stderr, code } = await exportOneSpan({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test' });
    expect(code, stderr).to.equal(0);
    expect(received.map((r) => r.path)).to.deep.equal(['/v1/traces']);
    const body = JSON.parse(received[0]!.body.toString()) as { resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> }; scopeSpans: Array<{ spans: Array<{ name: string }> }> }> };
    const attributes = Object.fromEntries(body.resourceSpans[0]!.resource.attributes.map((a) => [a.key, a.value.stringValue]));
    expect(attributes['service.name']).to.equal('signalpath-test');
    expect(attributes['deployment.environment']).to.equal('test');
    expect(body.resourceSpans[0]!.scopeSpans[0]!.spans.map((s) => s.name)).to.deep.equal(['signalpath.record']);
  });

  it('OTEL_SERVICE_NAME wins over the default service name', async function () {
    this.timeout(60_000);
    const { received, stderr, code } = await exportOneSpan({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_SERVICE_NAME: 'model-monitor-eu' });
    expect(code, stderr).to.equal(0);
    const body = JSON.parse(received[0]!.body.toString()) as { resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> } }> };
    expect(body.resourceSpans[0]!.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue).to.equal('model-monitor-eu');
  });

  it('exports as OTLP http/protobuf by default, with OTEL_SERVICE_NAME in the resource', async function () {
    this.timeout(60_000);
    const { received, stderr, code } = await exportOneSpan({ OTEL_SERVICE_NAME: 'model-monitor-eu' });
    expect(code, stderr).to.equal(0);
    expect(received).to.have.length(1);
    expect(received[0]!.path).to.equal('/v1/traces');
    expect(received[0]!.contentType).to.equal('application/x-protobuf');
    // Protobuf carries strings as their UTF-8 bytes.
    expect(received[0]!.body.includes('model-monitor-eu')).to.equal(true);
    expect(received[0]!.body.includes('signalpath.record')).to.equal(true);
  });
});
