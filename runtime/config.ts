/**
 * Run configuration, from command-line flags and environment variables, validated with zod at start.
 * Every setting has one flag and one environment variable; a bad value fails before anything
 * connects, with a message that names the flag, the variable and what is accepted.
 */
import { z } from 'zod';
import type { TopicFormat } from './serde/formats.js';

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
  /**
   * `role → format` from `--format role=format` / SIGNALPATH_TOPIC_FORMATS. A role not named is
   * `avro-confluent` when a schema registry is set, else `avro`.
   */
  readonly formats?: Readonly<Record<string, TopicFormat>>;
  /** Writer version of plain-Avro input records without `sp-schema` headers. Default: the contract's newest. */
  readonly inputWriterVersion?: number;
  readonly clientConfig?: Readonly<Record<string, string>>;
  /** A record value larger than this is dead-lettered before decoding. Default: no limit. */
  readonly maxRecordBytes?: number;
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
  /** Unit prices of the spend meter (runtime/cost/spend-meter.ts). Default: the settings' defaults. */
  readonly prices?: import('./cost/spend-meter.js').UnitPricesUsd;
  /** Append a JSON line per captured record (slow, failed, baseline) here, for `signalpath hotspots`. */
  readonly hotspotsFile?: string;
  /** Tracer for captured spans; default: the global one (`signalpath run` sets it up from OTEL_*). */
  readonly tracer?: import('@opentelemetry/api').Tracer;
  /**
   * Operator state in changelog topics (`<topology>.<step>.changelog`) for steps that attach to
   * `context.state`: 'on' (default) or 'off' (state starts empty on every start and assignment).
   */
  readonly state?: 'on' | 'off';
  /** Ms between state snapshots, each taken at a commit. Default 10 000. */
  readonly stateSnapshotIntervalMs?: number;
  /**
   * First part of the changelog topics' names (`<namespace>.<step>.changelog`). Default: the topology
   * name. Instances that share state must share it; groups that run the same topology on one broker
   * and must not restore each other's state (tests, lab variants) each need their own.
   */
  readonly stateNamespace?: string;
  /**
   * Exactly-once: outputs, dead letters, changelog writes and input offsets are committed together in
   * Kafka transactions every `commitIntervalMs`; readers of the outputs use `read_committed`.
   * Default false (at-least-once).
   */
  readonly exactlyOnce?: boolean;
  /** Names this instance in its `transactional.id` (`signalpath.<group>.<instanceId>`). Default: the host name. */
  readonly instanceId?: string;
  readonly log: (message: string) => void;
}

const brokerList = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}(,[A-Za-z0-9.\-_[\]:]+:\d{1,5})*$/, 'expected host:port[,host:port…], e.g. 127.0.0.1:9092');
const priceUsd = z.coerce.number({ error: 'expected a number of US dollars' }).min(0, 'expected at least 0').max(1000, 'expected at most 1000');
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
  partitionIdleTimeoutMs: { flag: '--partition-idle-timeout', env: 'SIGNALPATH_PARTITION_IDLE_TIMEOUT_MS', schema: positiveInt(86_400_000), default: 30_000, help: 'ms after which a silent partition with nothing left to read stops holding the watermark back (one with records left holds it up to 5× this, at least 60 s)' },
  startFrom: { flag: '--start-from', env: 'SIGNALPATH_START_FROM', schema: z.enum(['earliest', 'latest'], { error: 'expected earliest or latest' }), default: 'earliest', help: 'where a group without committed offsets starts' },
  partitions: { flag: '--partitions', env: 'SIGNALPATH_PARTITIONS', schema: positiveInt(10_000), default: 4, help: 'partitions for topics the runner creates (unless the topology declares them)' },
  schemaRegistryUrl: { flag: '--schema-registry', env: 'SCHEMA_REGISTRY_URL', schema: z.url({ error: 'expected a URL, e.g. http://localhost:8081' }), help: 'Confluent-compatible schema registry (e.g. Redpanda\'s); unset: plain Avro with schema headers' },
  topicFormats: {
    flag: '--format',
    env: 'SIGNALPATH_TOPIC_FORMATS',
    schema: z.string().trim().regex(/^[a-z][a-z0-9._-]*=(avro|avro-confluent|json)(,[a-z][a-z0-9._-]*=(avro|avro-confluent|json))*$/, 'expected role=format[,role=format…] with format avro, avro-confluent or json, e.g. input=json'),
    help: 'format of a topic\'s values by role (input, dlq, an output): avro (plain Avro; records without sp-schema headers are read as the declared contract), avro-confluent (Confluent wire format, needs SCHEMA_REGISTRY_URL) or json (checked against the contract); the flag repeats; default avro, or avro-confluent when SCHEMA_REGISTRY_URL is set',
  },
  inputWriterVersion: { flag: '--input-writer-version', env: 'SIGNALPATH_INPUT_WRITER_VERSION', schema: positiveInt(10_000), help: 'contract version that producers outside signalpath write plain Avro input records with (records without sp-schema headers); default: the newest version' },
  metricsPort: { flag: '--metrics-port', env: 'SIGNALPATH_METRICS_PORT', schema: nonNegativeInt(65_535), default: 9464, help: 'port of /metrics (Prometheus), /healthz and /readyz; 0 = off' },
  telemetry: { flag: '--telemetry', env: 'SIGNALPATH_TELEMETRY', schema: z.enum(['on', 'off'], { error: 'expected on or off' }), default: 'on', help: 'per-step metrics, traceparent propagation and tail-latency traces (off: none on the hot path)' },
  traceContext: { flag: '--trace-context', env: 'SIGNALPATH_TRACE_CONTEXT', schema: z.enum(['on', 'off'], { error: 'expected on or off' }), default: 'on', help: 'write a W3C traceparent header on every output record (with --telemetry on)' },
  tailPercentile: { flag: '--tail-percentile', env: 'SIGNALPATH_TAIL_PERCENTILE', schema: z.coerce.number({ error: 'expected a number' }).gt(0, 'expected more than 0').lt(100, 'expected less than 100'), default: 99, help: 'records slower end to end than this running percentile are traced' },
  traceBaselineRate: { flag: '--trace-baseline', env: 'SIGNALPATH_TRACE_BASELINE', schema: z.coerce.number({ error: 'expected a number' }).min(0, 'expected at least 0').max(1, 'expected at most 1'), default: 0.005, help: 'fraction of records traced whatever their latency (head-sampled baseline)' },
  pricePerEventUsd: { flag: '--price-per-event', env: 'SIGNALPATH_PRICE_PER_EVENT_USD', schema: priceUsd, default: 2e-7, help: 'spend meter: US dollars per ingested input event (default 2e-7, $0.20 per million)' },
  pricePerEnrichmentCallUsd: { flag: '--price-per-enrichment-call', env: 'SIGNALPATH_PRICE_PER_ENRICHMENT_CALL_USD', schema: priceUsd, default: 1e-5, help: 'spend meter: US dollars per enrichment call (default 1e-5, $10 per million)' },
  pricePerDetectorCallUsd: { flag: '--price-per-detector-call', env: 'SIGNALPATH_PRICE_PER_DETECTOR_CALL_USD', schema: priceUsd, default: 1e-6, help: 'spend meter: US dollars per detector run on one record (default 1e-6, $1 per million)' },
  summaryFile: { flag: '--summary', env: 'SIGNALPATH_SUMMARY_FILE', schema: z.string().trim().min(1, 'expected a file path'), help: 'write the run summary (events, spend by item, cpu_s, peak_rss_mb, what the topology reports) to this JSON file at the end' },
  state: { flag: '--state', env: 'SIGNALPATH_STATE', schema: z.enum(['on', 'off'], { error: 'expected on or off' }), default: 'on', help: 'keep the state of stateful steps in compacted changelog topics <topology>.<step>.changelog and restore it on start and on assignment' },
  stateSnapshotIntervalMs: { flag: '--state-snapshot-interval', env: 'SIGNALPATH_STATE_SNAPSHOT_INTERVAL_MS', schema: positiveInt(3_600_000), default: 10_000, help: 'ms between state snapshots to the changelog, each taken at a commit (also on revoke and at stop)' },
  stateNamespace: { flag: '--state-namespace', env: 'SIGNALPATH_STATE_NAMESPACE', schema: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/, "expected 1–200 letters, digits, '.', '_' or '-'"), help: 'changelog topics are <namespace>.<step>.changelog (default: the consumer group, so each group keeps its own state); set it to share state between groups, or to keep a state across a change of group' },
  exactlyOnce: {
    flag: '--exactly-once',
    env: 'SIGNALPATH_EXACTLY_ONCE',
    schema: z.union([z.boolean(), z.enum(['on', 'off', 'true', 'false'])], { error: 'expected on, off, true or false' }).transform((v) => v === true || v === 'on' || v === 'true'),
    default: false,
    help: 'consume-transform-produce in Kafka transactions: outputs, dead letters, changelog writes and input offsets commit together (read outputs with read_committed); default at-least-once',
  },
  instanceId: { flag: '--instance-id', env: 'SIGNALPATH_INSTANCE_ID', schema: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, "expected 1–100 letters, digits, '.', '_' or '-'"), help: 'with --exactly-once: this instance\'s name in its transactional.id, stable across restarts and unique in the group (default: the host name)' },
  maxRecordBytes: { flag: '--max-record-bytes', env: 'SIGNALPATH_MAX_RECORD_BYTES', schema: positiveInt(1_000_000_000), default: 1_048_576, help: 'a record value larger than this many bytes goes to the dead-letter topic (with the reason and its first bytes) instead of being decoded' },
  readyMaxLag: { flag: '--ready-max-lag', env: 'SIGNALPATH_READY_MAX_LAG', schema: nonNegativeInt(1_000_000_000), default: 10_000, help: '/readyz fails while a partition is more than this many records behind' },
  instances: { flag: '--instances', env: 'SIGNALPATH_INSTANCES', schema: positiveInt(256), default: 1, help: 'processes of the topology to start on this host, in one consumer group (Kafka spreads the partitions); instance i serves its metrics on --metrics-port + i; a crashed one is restarted with backoff (at most 5 times in 10 min)' },
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

/** The spend meter's unit prices from flags (first) or environment variables. */
export function readPrices(flags: { pricePerEvent?: string; pricePerEnrichmentCall?: string; pricePerDetectorCall?: string }, env: NodeJS.ProcessEnv): import('./cost/spend-meter.js').UnitPricesUsd {
  return {
    perEvent: readSetting('pricePerEventUsd', flags.pricePerEvent, env) as number,
    perEnrichmentCall: readSetting('pricePerEnrichmentCallUsd', flags.pricePerEnrichmentCall, env) as number,
    perDetectorCall: readSetting('pricePerDetectorCallUsd', flags.pricePerDetectorCall, env) as number,
  };
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

/** Parses the value of `--format role=format` (repeated flags joined by commas) or SIGNALPATH_TOPIC_FORMATS. */
export function parseTopicFormats(value: string | undefined): Record<string, TopicFormat> {
  const formats: Record<string, TopicFormat> = {};
  if (value === undefined) return formats;
  for (const pair of value.split(',')) {
    const [role, format] = pair.split('=') as [string, TopicFormat];
    formats[role] = format;
  }
  return formats;
}

/**
 * librdkafka settings whose values we check at start, because a typo there shows up later as an
 * opaque connection failure. Everything else passes through to librdkafka as given.
 */
const CLIENT_SETTING_CHECKS: Readonly<Record<string, readonly string[]>> = {
  'security.protocol': ['plaintext', 'ssl', 'sasl_plaintext', 'sasl_ssl'],
  'sasl.mechanisms': ['GSSAPI', 'PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'],
  'sasl.mechanism': ['GSSAPI', 'PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'],
  'ssl.endpoint.identification.algorithm': ['none', 'https'],
};

/**
 * Client settings from SIGNALPATH_KAFKA_<NAME> variables (e.g. SIGNALPATH_KAFKA_SASL_USERNAME →
 * sasl.username), passed to every librdkafka client the run creates (consumer, producer, admin).
 * The security settings in {@link CLIENT_SETTING_CHECKS} are validated; an error names the variable
 * and what it accepts, and never repeats a value (it may be a credential set in the wrong variable).
 */
export function clientConfigFromEnv(env: NodeJS.ProcessEnv): Record<string, string> | undefined {
  const config: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('SIGNALPATH_KAFKA_') || value === undefined) continue;
    const setting = name.slice('SIGNALPATH_KAFKA_'.length).toLowerCase().replaceAll('_', '.');
    const accepted = CLIENT_SETTING_CHECKS[setting];
    if (accepted !== undefined && !accepted.some((a) => a.toLowerCase() === value.trim().toLowerCase())) {
      throw new ConfigError(`invalid ${name} (environment, librdkafka ${setting}): expected one of ${accepted.join(', ')}`);
    }
    config[setting] = value;
  }
  return Object.keys(config).length > 0 ? config : undefined;
}
