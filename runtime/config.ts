/**
 * Run configuration, from command-line flags and environment variables, validated with zod at start.
 * Every setting has one flag and one environment variable; a bad value fails before anything
 * connects, with a message that names the flag, the variable and what is accepted.
 */
import { z } from 'zod';

export interface RunConfig {
  readonly brokers: string;
  readonly group: string;
  /** `role → topic` overrides from `--topic role=name`. */
  readonly topics: Readonly<Record<string, string>>;
  /** Exit once the input has been idle this long and everything is settled and committed. */
  readonly untilIdleMs?: number;
  readonly maxUnsettled: number;
  readonly partitionHighWater: number;
  readonly batchSize: number;
  readonly commitIntervalMs: number;
  readonly drainTimeoutMs: number;
  readonly allowedLatenessMs: number;
  readonly partitionIdleTimeoutMs: number;
  /** Watermark alignment: pause a partition this far ahead of the slowest in event time (0 = off). */
  readonly maxEventTimeDriftMs?: number;
  readonly startFrom: 'earliest' | 'latest';
  readonly partitions: number;
  readonly schemaRegistryUrl?: string;
  readonly clientConfig?: Readonly<Record<string, string>>;
  /** Port of `/metrics`, `/healthz`, `/readyz`; 0 or unset = no endpoints (the CLI defaults to 9464). */
  readonly metricsPort?: number;
  /**
   * 'on' (default): per-step metrics, traceparent on every output, tail-hotspot capture. 'off': none
   * of it on the hot path (for comparison runs).
   */
  readonly telemetry?: 'on' | 'off';
  /**
   * With telemetry on: write a traceparent on every output (default true). Each extra header costs
   * the Kafka client's produce() ≈ 0.3–0.8 µs of main thread (it converts every header key and value).
   */
  readonly traceContext?: boolean;
  /** Percentile of end-to-end latency above which records are traced. Default 99. */
  readonly tailPercentile?: number;
  /** Fraction of records traced regardless of latency (head-sampled baseline). Default 0.005. */
  readonly traceBaselineRate?: number;
  /** `/readyz` fails while any partition is more than this many records behind. Default 10 000. */
  readonly readyMaxLag?: number;
  /** Append a JSON line per captured record (slow, failed, baseline) here, for `signalpath hotspots`. */
  readonly hotspotsFile?: string;
  /** Tracer for captured spans; default: the global one (`signalpath run` sets it up from OTEL_*). */
  readonly tracer?: import('@opentelemetry/api').Tracer;
  readonly log: (message: string) => void;
}

const brokerList = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}(,[A-Za-z0-9.\-_[\]:]+:\d{1,5})*$/, 'expected host:port[,host:port…], e.g. 127.0.0.1:9092');
const positiveInt = (max: number) => z.coerce.number({ error: 'expected a number' }).int('expected a whole number').min(1, 'expected at least 1').max(max, `expected at most ${max}`);
const nonNegativeInt = (max: number) => z.coerce.number({ error: 'expected a number' }).int('expected a whole number').min(0, 'expected at least 0').max(max, `expected at most ${max}`);

/** One setting: its flag, environment variable, schema and default. */
interface Setting {
  readonly flag: string;
  readonly env: string;
  readonly schema: z.ZodType;
  readonly default?: unknown;
  readonly help: string;
}

export const SETTINGS = {
  brokers: { flag: '--brokers', env: 'KAFKA_BROKERS', schema: brokerList, help: 'Kafka bootstrap servers, host:port[,host:port…]; unset: start a local broker' },
  group: { flag: '--group', env: 'SIGNALPATH_GROUP', schema: z.string().trim().min(1, 'expected a non-empty consumer group id').max(249), help: 'consumer group id (default: signalpath.<topology>)' },
  untilIdleMs: { flag: '--until-idle', env: 'SIGNALPATH_UNTIL_IDLE_MS', schema: positiveInt(86_400_000), help: 'exit 0 once the input has been idle this many ms and every record is settled and committed' },
  maxUnsettled: { flag: '--max-unsettled', env: 'SIGNALPATH_MAX_UNSETTLED', schema: positiveInt(10_000_000), default: 20_000, help: 'high-water mark: most records consumed and not yet settled, over all partitions' },
  partitionHighWater: { flag: '--partition-high-water', env: 'SIGNALPATH_PARTITION_HIGH_WATER', schema: positiveInt(10_000_000), default: 10_000, help: 'pause a partition at this many unsettled records; resume at half' },
  batchSize: { flag: '--batch-size', env: 'SIGNALPATH_BATCH_SIZE', schema: positiveInt(100_000), default: 1000, help: 'records asked of the client per consume call' },
  commitIntervalMs: { flag: '--commit-interval', env: 'SIGNALPATH_COMMIT_INTERVAL_MS', schema: positiveInt(600_000), default: 1000, help: 'ms between commits of settled offsets' },
  drainTimeoutMs: { flag: '--drain-timeout', env: 'SIGNALPATH_DRAIN_TIMEOUT_MS', schema: positiveInt(3_600_000), default: 30_000, help: 'ms to wait for in-flight records on shutdown before committing what settled' },
  allowedLatenessMs: { flag: '--allowed-lateness', env: 'SIGNALPATH_ALLOWED_LATENESS_MS', schema: nonNegativeInt(86_400_000), default: 5_000, help: 'event-time slack (ms) before a record counts as late' },
  maxEventTimeDriftMs: { flag: '--max-event-time-drift', env: 'SIGNALPATH_MAX_EVENT_TIME_DRIFT_MS', schema: nonNegativeInt(86_400_000), default: 60_000, help: 'pause a partition that runs this many ms of event time ahead of the slowest one (watermark alignment); 0 = off' },
  partitionIdleTimeoutMs: { flag: '--partition-idle-timeout', env: 'SIGNALPATH_PARTITION_IDLE_TIMEOUT_MS', schema: positiveInt(86_400_000), default: 30_000, help: 'ms after which a silent partition stops holding the watermark back' },
  startFrom: { flag: '--start-from', env: 'SIGNALPATH_START_FROM', schema: z.enum(['earliest', 'latest'], { error: 'expected earliest or latest' }), default: 'earliest', help: 'where a group without committed offsets starts' },
  partitions: { flag: '--partitions', env: 'SIGNALPATH_PARTITIONS', schema: positiveInt(10_000), default: 4, help: 'partitions for topics the runner creates (unless the topology declares them)' },
  schemaRegistryUrl: { flag: '--schema-registry', env: 'SCHEMA_REGISTRY_URL', schema: z.url({ error: 'expected a URL, e.g. http://localhost:8081' }), help: 'Confluent-compatible schema registry (e.g. Redpanda\'s); unset: plain Avro with schema headers' },
  metricsPort: { flag: '--metrics-port', env: 'SIGNALPATH_METRICS_PORT', schema: nonNegativeInt(65_535), default: 9464, help: 'port of /metrics (Prometheus), /healthz and /readyz; 0 = off' },
  telemetry: { flag: '--telemetry', env: 'SIGNALPATH_TELEMETRY', schema: z.enum(['on', 'off'], { error: 'expected on or off' }), default: 'on', help: 'per-step metrics, traceparent propagation and tail-latency traces (off: none on the hot path)' },
  traceContext: { flag: '--trace-context', env: 'SIGNALPATH_TRACE_CONTEXT', schema: z.enum(['on', 'off'], { error: 'expected on or off' }), default: 'on', help: 'write a W3C traceparent header on every output record (with --telemetry on)' },
  tailPercentile: { flag: '--tail-percentile', env: 'SIGNALPATH_TAIL_PERCENTILE', schema: z.coerce.number({ error: 'expected a number' }).gt(0, 'expected more than 0').lt(100, 'expected less than 100'), default: 99, help: 'records slower end to end than this running percentile are traced' },
  traceBaselineRate: { flag: '--trace-baseline', env: 'SIGNALPATH_TRACE_BASELINE', schema: z.coerce.number({ error: 'expected a number' }).min(0, 'expected at least 0').max(1, 'expected at most 1'), default: 0.005, help: 'fraction of records traced whatever their latency (head-sampled baseline)' },
  readyMaxLag: { flag: '--ready-max-lag', env: 'SIGNALPATH_READY_MAX_LAG', schema: nonNegativeInt(1_000_000_000), default: 10_000, help: '/readyz fails while a partition is more than this many records behind' },
  hotspotsFile: { flag: '--hotspots-file', env: 'SIGNALPATH_HOTSPOTS_FILE', schema: z.string().trim().min(1, 'expected a file path'), help: 'append a JSON line per captured (slow, failed, baseline) record to this file; read it with signalpath hotspots' },
} as const satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Validates one setting from its flag value (first) or environment variable. Returns the default
 * when neither is given.
 */
export function readSetting<K extends SettingName>(name: K, flagValue: unknown, env: NodeJS.ProcessEnv): unknown {
  const setting: Setting = SETTINGS[name];
  const fromFlag = flagValue !== undefined;
  const raw = fromFlag ? flagValue : env[setting.env];
  if (raw === undefined || raw === '') return setting.default;
  const parsed = setting.schema.safeParse(raw);
  if (!parsed.success) {
    const reason = parsed.error.issues.map((issue) => issue.message).join('; ');
    const where = fromFlag ? `${setting.flag}` : `${setting.env} (environment)`;
    throw new ConfigError(`invalid ${where}: ${JSON.stringify(raw)} — ${reason}. Setting: ${setting.flag} / ${setting.env}: ${setting.help}.`);
  }
  return parsed.data;
}

/** Parses repeated `--topic role=name` flags. */
export function parseTopicOverrides(values: readonly string[]): Record<string, string> {
  const topics: Record<string, string> = {};
  for (const value of values) {
    const match = /^([a-z][a-z0-9._-]*)=([A-Za-z0-9._-]{1,249})$/.exec(value);
    if (!match) {
      throw new ConfigError(`invalid --topic ${JSON.stringify(value)}: expected role=topic, e.g. --topic mentions=mentions.v2 (topic names: letters, digits, '.', '_', '-')`);
    }
    topics[match[1]!] = match[2]!;
  }
  return topics;
}

/** Client settings from SIGNALPATH_KAFKA_<NAME> variables (e.g. SIGNALPATH_KAFKA_SASL_USERNAME → sasl.username). */
export function clientConfigFromEnv(env: NodeJS.ProcessEnv): Record<string, string> | undefined {
  const config: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('SIGNALPATH_KAFKA_') || value === undefined) continue;
    config[name.slice('SIGNALPATH_KAFKA_'.length).toLowerCase().replaceAll('_', '.')] = value;
  }
  return Object.keys(config).length > 0 ? config : undefined;
}
