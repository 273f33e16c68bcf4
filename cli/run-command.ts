/**
 * `signalpath run <topology>`: validate the configuration, connect, run, drain on signals. With
 * `--instances N` (N > 1) this process validates the same settings, then supervises N child processes
 * of the same command in one consumer group (instances.ts); each child runs one instance here.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { clientConfigFromEnv, ConfigError, parseTopicFormats, parseTopicOverrides, readPrices, readSetting, type RunConfig } from '../runtime/config.js';
import { loadTopology } from '../runtime/topology-loader.js';
import { runTopology, resolveFormats, resolveTopics } from '../runtime/runner.js';
import { startTracing } from '../runtime/telemetry/tracing.js';
import { Redactor } from '../runtime/security/redact.js';
import { connectKafka } from './client-settings.js';
import { instanceIndexFrom, runInstances } from './instances.js';

export interface RunFlags {
  brokers?: string;
  group?: string;
  topic: string[];
  untilIdle?: string;
  maxUnsettled?: string;
  partitionHighWater?: string;
  batchSize?: string;
  commitInterval?: string;
  drainTimeout?: string;
  allowedLateness?: string;
  partitionIdleTimeout?: string;
  maxEventTimeDrift?: string;
  startFrom?: string;
  partitions?: string;
  schemaRegistry?: string;
  format?: string[];
  inputWriterVersion?: string;
  metricsPort?: string;
  telemetry?: string;
  traceContext?: string;
  tailPercentile?: string;
  traceBaseline?: string;
  readyMaxLag?: string;
  pricePerEvent?: string;
  pricePerEnrichmentCall?: string;
  pricePerDetectorCall?: string;
  summary?: string;
  state?: string;
  stateSnapshotInterval?: string;
  stateNamespace?: string;
  exactlyOnce?: boolean;
  instanceId?: string;
  maxRecordBytes?: string;
  hotspotsFile?: string;
  quiet?: boolean;
  instances?: string;
}

export async function runCommand(topologyName: string, flags: RunFlags): Promise<void> {
  const env = process.env;
  const clientConfig = clientConfigFromEnv(env);
  // Every line this command prints passes the redactor: no credential reaches a log (README: Security).
  const redactor = Redactor.forClientConfig(clientConfig);
  const log = (message: string): void => console.error(`[${new Date().toISOString()}] ${redactor.redact(message)}`);
  // Everything is validated before anything connects: a bad setting fails at once, by name.
  const topology = await loadTopology(topologyName);
  const topics = parseTopicOverrides(flags.topic);
  resolveTopics(topology, topics);
  const settings = {
    group: (readSetting('group', flags.group, env) as string | undefined) ?? `signalpath.${topology.name}`,
    untilIdleMs: readSetting('untilIdleMs', flags.untilIdle, env) as number | undefined,
    maxUnsettled: readSetting('maxUnsettled', flags.maxUnsettled, env) as number,
    partitionHighWater: readSetting('partitionHighWater', flags.partitionHighWater, env) as number,
    batchSize: readSetting('batchSize', flags.batchSize, env) as number,
    commitIntervalMs: readSetting('commitIntervalMs', flags.commitInterval, env) as number,
    drainTimeoutMs: readSetting('drainTimeoutMs', flags.drainTimeout, env) as number,
    allowedLatenessMs: readSetting('allowedLatenessMs', flags.allowedLateness, env) as number,
    partitionIdleTimeoutMs: readSetting('partitionIdleTimeoutMs', flags.partitionIdleTimeout, env) as number,
    maxEventTimeDriftMs: readSetting('maxEventTimeDriftMs', flags.maxEventTimeDrift, env) as number,
    startFrom: readSetting('startFrom', flags.startFrom, env) as 'earliest' | 'latest',
    partitions: readSetting('partitions', flags.partitions, env) as number,
    schemaRegistryUrl: readSetting('schemaRegistryUrl', flags.schemaRegistry, env) as string | undefined,
    formats: parseTopicFormats(readSetting('topicFormats', flags.format?.length ? flags.format.join(',') : undefined, env) as string | undefined),
    inputWriterVersion: readSetting('inputWriterVersion', flags.inputWriterVersion, env) as number | undefined,
    metricsPort: readSetting('metricsPort', flags.metricsPort, env) as number,
    telemetry: readSetting('telemetry', flags.telemetry, env) as 'on' | 'off',
    traceContext: readSetting('traceContext', flags.traceContext, env) === 'on',
    tailPercentile: readSetting('tailPercentile', flags.tailPercentile, env) as number,
    traceBaselineRate: readSetting('traceBaselineRate', flags.traceBaseline, env) as number,
    readyMaxLag: readSetting('readyMaxLag', flags.readyMaxLag, env) as number,
    prices: readPrices(flags, env),
    state: readSetting('state', flags.state, env) as 'on' | 'off',
    stateSnapshotIntervalMs: readSetting('stateSnapshotIntervalMs', flags.stateSnapshotInterval, env) as number,
    stateNamespace: readSetting('stateNamespace', flags.stateNamespace, env) as string | undefined,
    exactlyOnce: readSetting('exactlyOnce', flags.exactlyOnce, env) as boolean,
    instanceId: readSetting('instanceId', flags.instanceId, env) as string | undefined,
    maxRecordBytes: readSetting('maxRecordBytes', flags.maxRecordBytes, env) as number,
    hotspotsFile: readSetting('hotspotsFile', flags.hotspotsFile, env) as string | undefined,
  };
  resolveFormats(topology, settings.formats, settings.schemaRegistryUrl, settings.inputWriterVersion);
  const summaryFile = readSetting('summaryFile', flags.summary, env) as string | undefined;
  const instances = readSetting('instances', flags.instances, env) as number;
  // A child of `--instances N` (the supervisor sets its index): one instance, on its own metrics port
  // (the base + index) and with its own transactional.id, which must differ between the processes of a
  // group and stay the same when the supervisor restarts one.
  const instanceIndex = instanceIndexFrom(env);
  if (instanceIndex === undefined && instances > 1) {
    if (settings.metricsPort !== 0 && settings.metricsPort + instances - 1 > 65_535) {
      throw new ConfigError(`--instances ${instances} with --metrics-port ${settings.metricsPort}: instance i serves on port ${settings.metricsPort} + i, past 65535; lower --metrics-port / SIGNALPATH_METRICS_PORT (or 0: no endpoints)`);
    }
    const connection = await connectKafka(flags.brokers, log, clientConfig);
    try {
      const outcome = await runInstances({ count: instances, brokers: connection.local ? connection.brokers : undefined, metricsPort: settings.metricsPort, log });
      console.log(redactor.redact(JSON.stringify(outcome.summary)));
      if (summaryFile !== undefined) {
        await mkdir(path.dirname(path.resolve(summaryFile)), { recursive: true });
        await writeFile(summaryFile, `${JSON.stringify(outcome.summary, null, 2)}\n`);
      }
      process.exitCode = outcome.exitCode;
    } finally {
      await connection.close();
    }
    process.exit(process.exitCode);
  }
  if (instanceIndex !== undefined) {
    settings.metricsPort = settings.metricsPort === 0 ? 0 : settings.metricsPort + instanceIndex;
    settings.instanceId = `${settings.instanceId ?? hostname()}-${instanceIndex}`.slice(-100);
  }
  // Traces go wherever OTEL_* says (OTLP by default once an endpoint or exporter is set); see tracing.ts.
  const tracing = settings.telemetry === 'on' ? await startTracing(`signalpath-${topology.name}`) : { enabled: false, shutdown: async () => {} };
  const connection = await connectKafka(flags.brokers, log, clientConfig);
  const config: RunConfig = { ...settings, brokers: connection.brokers, topics, clientConfig, log };

  let running;
  try {
    running = await runTopology(topology, config);
  } catch (error) {
    await connection.close();
    await tracing.shutdown();
    throw error;
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    log(`${signal}: draining (deadline ${config.drainTimeoutMs} ms)…`);
    void running.stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  if (instanceIndex !== undefined && process.channel !== undefined) {
    // The supervisor's channel closes when it dies without stopping us (kill -9): drain, do not linger.
    process.channel.unref();
    process.once('disconnect', () => {
      log('the supervisor of --instances is gone: draining…');
      void running.stop();
    });
  }

  const progress = flags.quiet
    ? undefined
    : setInterval(() => {
        const s = running.stats();
        log(`consumed ${s.consumed} · produced ${s.delivered} · dead-lettered ${s.deadLettered} · unsettled ${s.unsettled} · paused partitions ${s.pausedPartitions} · late ${s.late}`);
      }, 5_000);
  const summary = await running.done;
  clearInterval(progress);
  await connection.close();
  await tracing.shutdown().catch((error: unknown) => log(`exporting the last spans failed: ${(error as Error).message}`));
  console.log(redactor.redact(JSON.stringify(summary)));
  // A child of --instances leaves the file to its supervisor, which writes all instances' summaries there.
  if (summaryFile !== undefined && instanceIndex === undefined) {
    // Written after the drain and commit: a reader that finds the file knows the run is over.
    await mkdir(path.dirname(path.resolve(summaryFile)), { recursive: true });
    await writeFile(summaryFile, `${JSON.stringify(summary, null, 2)}\n`);
  }
  process.exit(summary.reason === 'fatal' ? 1 : 0);
}
