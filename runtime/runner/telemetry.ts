/**
 * Metrics wiring of a run: the topology's telemetry (metrics, spans, stage clock, KPIs, gauges), the
 * label follower that feeds the feedback KPIs, and the HTTP endpoints (/metrics, /healthz, /readyz,
 * the status page).
 */
import { ensureTopics } from '../kafka/admin.js';
import type { KafkaSource } from '../kafka/source.js';
import type { SpendMeter } from '../cost/spend-meter.js';
import type { RunConfig } from '../config.js';
import { startHttpEndpoints, type HttpEndpoints } from '../telemetry/http-endpoints.js';
import { followLabels } from '../telemetry/label-follower.js';
import { statusRoutes } from '../telemetry/status-page.js';
import { TopologyTelemetry } from '../telemetry/topology-telemetry.js';
import type { Topology } from '../topology.js';
import type { OutputRoute } from './outputs.js';

/** The run's telemetry, or null with `telemetry: 'off'`; marks the outputs that carry mentions. */
export function createRunTelemetry(topology: Topology<unknown>, config: RunConfig, meter: SpendMeter, routes: ReadonlyMap<string, OutputRoute>): TopologyTelemetry | null {
  if (config.telemetry === 'off') return null;
  const telemetry = new TopologyTelemetry({
    topology: topology.name,
    stepNames: topology.chain.map((step) => step.name),
    maxUnsettled: config.maxUnsettled,
    tailPercentile: config.tailPercentile,
    baselineRate: config.traceBaselineRate,
    tracer: config.tracer,
    // The spend KPIs read the run's own meter unless the topology brings another.
    ...(topology.kpis === undefined ? {} : { kpis: { spend: meter, ...topology.kpis } }),
    ...(config.hotspotsFile === undefined ? {} : { hotspotsFile: config.hotspotsFile }),
  });
  telemetry.addTopologyGauges(topology.gauges ?? []);
  for (const [role, route] of routes) route.mention = telemetry.kpis.isMentionOutput(role);
  return telemetry;
}

/** Follows the labels topic (without a consumer group) while the run lasts; `stop()` ends it. */
export interface LabelFollower {
  stop(): Promise<void>;
}

export async function followRunLabels(topology: Topology<unknown>, config: RunConfig, telemetry: TopologyTelemetry | null): Promise<LabelFollower> {
  const labelsTopic = telemetry === null ? undefined : topology.kpis?.labelsTopic;
  if (labelsTopic === undefined) return { stop: () => Promise.resolve() };
  await ensureTopics(config.brokers, [{ topic: labelsTopic, partitions: config.partitions }], undefined, config.clientConfig);
  const abort = new AbortController();
  const done = followLabels({
    brokers: config.brokers,
    topic: labelsTopic,
    onLabel: (mentionId, verdict, atMs) => telemetry!.kpis.labelReceived(mentionId, verdict, atMs),
    log: config.log,
    signal: abort.signal,
    clientConfig: config.clientConfig,
  });
  return {
    stop: async () => {
      abort.abort();
      await done;
    },
  };
}

/** What health and readiness read of the run. */
export interface RunHealth {
  readonly fatalError: () => Error | null;
  readonly stopping: () => boolean;
}

/** Serves /metrics, /healthz, /readyz (and /status with telemetry) when a port is set; null when off or the port is taken. */
export async function startRunEndpoints(
  topology: Topology<unknown>,
  config: RunConfig,
  telemetry: TopologyTelemetry | null,
  source: KafkaSource<unknown>,
  health: RunHealth,
): Promise<HttpEndpoints | null> {
  if (config.metricsPort === undefined || config.metricsPort <= 0) return null;
  const registry = telemetry?.registry ?? new (await import('prom-client')).Registry();
  const readyMaxLag = config.readyMaxLag ?? 10_000;
  telemetry?.addSourceGauges(() => source.readiness(readyMaxLag).lag, () => source.stats.unsettled);
  try {
    const endpoints = await startHttpEndpoints({
      port: config.metricsPort,
      registry,
      health: () => {
        const fatalError = health.fatalError();
        return { ok: fatalError === null, detail: fatalError === null ? { topology: topology.name } : { topology: topology.name, error: fatalError.message } };
      },
      ready: () => {
        const readiness = source.readiness(readyMaxLag);
        return {
          ok: readiness.ready && health.fatalError() === null && !health.stopping(),
          detail: { topology: topology.name, assignedPartitions: readiness.assignedPartitions, lag: readiness.lag, maxLag: readyMaxLag },
        };
      },
      ...(telemetry === null
        ? {}
        : {
            routes: statusRoutes(() => ({
              ...telemetry.status(),
              source: { consumed: source.stats.consumed, unsettled: source.stats.unsettled, pausedPartitions: source.stats.pausedPartitions, lag: source.readiness(readyMaxLag).lag },
            })),
          }),
    });
    config.log(`metrics on http://0.0.0.0:${endpoints.port}/metrics (also /healthz, /readyz${telemetry === null ? '' : ', and the status page /status'})`);
    return endpoints;
  } catch (error) {
    // Another process holds the port: run on without endpoints rather than not at all.
    config.log(`cannot serve metrics on port ${config.metricsPort} (--metrics-port / SIGNALPATH_METRICS_PORT): ${(error as Error).message}; running without /metrics, /healthz, /readyz`);
    return null;
  }
}
