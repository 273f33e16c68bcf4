/**
 * OpenTelemetry tracing for `signalpath run`, configured by the standard `OTEL_*` environment variables.
 *
 * It starts only when tracing is asked for — `OTEL_TRACES_EXPORTER` or an OTLP endpoint
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set — and
 * `OTEL_SDK_DISABLED` is not true. Otherwise the API's no-op tracer stays in place, captured records
 * cost nothing to "export", and none of the SDK is even loaded.
 *
 * Only traces: metrics go through Prometheus and logs to stderr, so this is the trace SDK
 * (@opentelemetry/sdk-trace-node) and an exporter, not the whole NodeSDK. No auto-instrumentation:
 * the runtime builds its own spans (see tail-capture.ts). What is read from the environment:
 * - `OTEL_TRACES_EXPORTER`: `otlp` (the default), `console`, `none`, or a comma-separated list;
 *   another name stops the command with a ConfigError naming the variable.
 * - `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` / `OTEL_EXPORTER_OTLP_PROTOCOL`: `http/protobuf` (default),
 *   `http/json` or `grpc`; the OTLP exporters themselves read the endpoint, headers, timeout,
 *   compression and certificates (`OTEL_EXPORTER_OTLP_[TRACES_]*`).
 * - `OTEL_SERVICE_NAME` (default `signalpath-<topology>`) and `OTEL_RESOURCE_ATTRIBUTES`.
 * - the SDK's own: `OTEL_TRACES_SAMPLER[_ARG]`, span limits, `OTEL_BSP_*` for the batch processor.
 */
import { ConfigError } from '../config.js';

export interface Tracing {
  readonly enabled: boolean;
  shutdown(): Promise<void>;
}

const DISABLED: Tracing = { enabled: false, shutdown: async () => {} };
const EXPORTERS = ['otlp', 'console', 'none'] as const;
const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;

export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return false;
  return Boolean(env.OTEL_TRACES_EXPORTER || env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/** The exporters `OTEL_TRACES_EXPORTER` names (empty: `otlp`), checked; `[]` means `none`. */
export function tracesExporters(env: NodeJS.ProcessEnv): Array<'otlp' | 'console'> {
  const names = [...new Set((env.OTEL_TRACES_EXPORTER ?? '').split(',').map((name) => name.trim().toLowerCase()).filter(Boolean))];
  for (const name of names) {
    if (!(EXPORTERS as readonly string[]).includes(name)) throw new ConfigError(`OTEL_TRACES_EXPORTER: unknown exporter "${name}"; expected ${EXPORTERS.join(', ')} (comma-separated)`);
  }
  if (names.length === 0) return ['otlp'];
  if (names.includes('none')) return [];
  return names as Array<'otlp' | 'console'>;
}

/** `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`, else `http/protobuf`; checked. */
export function otlpProtocol(env: NodeJS.ProcessEnv): (typeof OTLP_PROTOCOLS)[number] {
  const variable = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?.trim() ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = env[variable]?.trim() || 'http/protobuf';
  if (!(OTLP_PROTOCOLS as readonly string[]).includes(protocol)) throw new ConfigError(`${variable}: unknown protocol "${protocol}"; expected ${OTLP_PROTOCOLS.join(', ')}`);
  return protocol as (typeof OTLP_PROTOCOLS)[number];
}

/**
 * Starts tracing if the process environment asks for it and registers the tracer provider globally
 * (the runtime's tracer is `trace.getTracer('signalpath')`). A bad `OTEL_TRACES_EXPORTER` or OTLP
 * protocol throws a ConfigError before anything starts. The environment is the process's: the OTLP
 * exporters and the resource detectors read it themselves.
 */
export async function startTracing(serviceName: string): Promise<Tracing> {
  const env = process.env;
  if (!tracingRequested(env)) return DISABLED;
  const exporterNames = tracesExporters(env);
  if (exporterNames.length === 0) return DISABLED;
  const protocol = otlpProtocol(env);

  // Loaded only when tracing is on: a run without it carries none of the SDK.
  const [{ NodeTracerProvider }, { BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor }, resources] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
  ]);
  const spanProcessors = [];
  for (const name of exporterNames) {
    if (name === 'console') {
      spanProcessors.push(new SimpleSpanProcessor(new ConsoleSpanExporter()));
      continue;
    }
    const { OTLPTraceExporter } = protocol === 'grpc'
      ? await import('@opentelemetry/exporter-trace-otlp-grpc')
      : protocol === 'http/json'
        ? await import('@opentelemetry/exporter-trace-otlp-http')
        : await import('@opentelemetry/exporter-trace-otlp-proto');
    spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter()));
  }

  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) win over the default name.
  const resource = resources.defaultResource()
    .merge(resources.resourceFromAttributes({ 'service.name': serviceName }))
    .merge(resources.detectResources({ detectors: [resources.hostDetector, resources.osDetector, resources.processDetector, resources.envDetector] }));
  const provider = new NodeTracerProvider({ resource, spanProcessors });
  provider.register();
  return { enabled: true, shutdown: () => provider.shutdown() };
}
