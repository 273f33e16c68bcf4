/**
 * OpenTelemetry SDK setup for `signalpath run`, from the standard `OTEL_*` environment variables.
 *
 * The SDK starts only when tracing is asked for — `OTEL_TRACES_EXPORTER` or an OTLP endpoint
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set — and
 * `OTEL_SDK_DISABLED` is not true. Otherwise the API's no-op tracer stays in place and captured
 * records cost nothing to "export". The exporter is whatever `OTEL_TRACES_EXPORTER` names (`otlp`,
 * the default, through @opentelemetry/exporter-trace-otlp-http / -grpc per `OTEL_EXPORTER_OTLP_PROTOCOL`;
 * `console`; `zipkin`); `OTEL_SERVICE_NAME` defaults to `signalpath-<topology>`. No
 * auto-instrumentation: the runtime builds its own spans (see tail-capture.ts).
 */
import { NodeSDK } from '@opentelemetry/sdk-node';

export interface Tracing {
  readonly enabled: boolean;
  shutdown(): Promise<void>;
}

export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  if ((env.OTEL_SDK_DISABLED ?? '').toLowerCase() === 'true') return false;
  return Boolean(env.OTEL_TRACES_EXPORTER || env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): Tracing {
  if (!tracingRequested(env)) return { enabled: false, shutdown: async () => {} };
  if (!env.OTEL_SERVICE_NAME) env.OTEL_SERVICE_NAME = serviceName;
  // Metrics and logs go through Prometheus and stderr; only traces go through the SDK.
  env.OTEL_METRICS_EXPORTER ??= 'none';
  env.OTEL_LOGS_EXPORTER ??= 'none';
  const sdk = new NodeSDK({ instrumentations: [] });
  sdk.start();
  return { enabled: true, shutdown: () => sdk.shutdown() };
}
