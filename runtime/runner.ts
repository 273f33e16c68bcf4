/**
 * The topology runner: wires a {@link Topology} between a {@link KafkaSource} and a {@link KafkaSink}.
 *
 * Lifecycle: create missing topics → connect the producer → subscribe → run until stopped (a signal,
 * `--until-idle`, or a fatal error). Stopping drains: stop fetching, complete the input so that
 * stateful steps flush what they hold, wait (up to the drain deadline) for every record to settle,
 * flush the producer, commit, disconnect. A fatal error stops without committing anything unsettled,
 * so a restart re-reads it (at-least-once).
 */
import { Subject, type Subscription } from 'rxjs';
import type { Contract } from '../schemas/index.js';
import { DeadLetterContract } from '../schemas/index.js';
import { deadLetterFor, describeError } from './dead-letter.js';
import type { Envelope, RecordOrigin } from '../core/envelope.js';
import { createSettlement } from '../core/settlement.js';
import { hostname } from 'node:os';
import { checkBrokerAccess, ensureTopics } from './kafka/admin.js';
import { StepStates } from './state/step-states.js';
import type { MessageHeader } from './kafka/client.js';
import { KafkaSink } from './kafka/sink.js';
import { KafkaSource, type SourceStats } from './kafka/source.js';
import { createTopicSerde, UnknownWriterSchemaError, type TopicFormat, type TopicSerde } from './serde/index.js';
import type { RoutedEnvelope, StepContext, Topology } from './topology.js';
import { ConfigError, SETTINGS, type RunConfig } from './config.js';
import { startHttpEndpoints, type HttpEndpoints } from './telemetry/http-endpoints.js';
import type { TracedOrigin } from './telemetry/stage-clock.js';
import { TopologyTelemetry } from './telemetry/topology-telemetry.js';
import { TRACEPARENT, TraceIdGenerator } from './telemetry/trace-context.js';
import { SpendMeter, type SpendReport } from './cost/spend-meter.js';
import { processUsage } from './cost/process-usage.js';
import { followLabels } from './telemetry/label-follower.js';
import { statusRoutes } from './telemetry/status-page.js';

export interface RunSummary {
  readonly topology: string;
  readonly reason: 'idle' | 'stopped' | 'fatal';
  readonly error?: string;
  readonly consumed: number;
  readonly produced: number;
  readonly deadLettered: number;
  readonly maxUnsettledSeen: number;
  /**
   * Records the Kafka client handed out again within one assignment, skipped because their first
   * copy was in flight (KafkaSource's repeat-delivery guard). Expected 0; not 0 means it happened.
   */
  readonly redelivered: number;
  /** Records skipped because the commit they were read from said they had completed (their outputs were sent). */
  readonly skippedCompleted: number;
  /** True when every consumed record settled before the drain deadline. */
  readonly drained: boolean;
  readonly elapsedMs: number;
  /** Billable work counted during the run, priced (runtime/cost/spend-meter.ts). */
  readonly spend: SpendReport;
  /** CPU seconds and peak RSS of this process at the end of the run. */
  readonly cpu_s: number;
  readonly peak_rss_mb: number;
  /** What the topology reports about the run (its `report()`), e.g. lane loads; absent when it has none. */
  readonly topologyReport?: Readonly<Record<string, unknown>>;
}

export interface RunningTopology {
  /** Resolves when the run has ended (drained and committed, or failed). */
  readonly done: Promise<RunSummary>;
  /** Begins a graceful stop (idempotent); resolves with the summary. */
  stop(): Promise<RunSummary>;
  readonly stats: () => SourceStats & { produced: number; delivered: number };
  /** Resolved topic name per role (`input`, each output, `dlq`). */
  readonly topics: Readonly<Record<string, string>>;
  /** Port of `/metrics`, `/healthz`, `/readyz`, or null when they are off. */
  readonly metricsPort: number | null;
  /** The run's metrics, spans and stage clock; null with `telemetry: 'off'`. */
  readonly telemetry: TopologyTelemetry | null;
  /** The run's spend meter (`spendUsd()`, counts by item). */
  readonly meter: SpendMeter;
  /** Operator state in changelog topics (restores, snapshots); null with `state: 'off'`. */
  readonly state: StepStates | null;
}

/** Starts `topology`; resolves once it is connected and consuming. */
export async function runTopology<In>(topology: Topology<In>, config: RunConfig): Promise<RunningTopology> {
  const log = config.log;
  const startedAt = Date.now();
  const topics = resolveTopics(topology as Topology<unknown>, config.topics);

  // Credentials or a certificate the broker refuses fail here, promptly and by setting name.
  if (config.clientConfig !== undefined) await checkBrokerAccess(config.brokers, config.clientConfig);
  await ensureTopics(config.brokers, [
    { topic: topics.input!, partitions: topology.input.partitions ?? config.partitions },
    ...Object.entries(topology.outputs).map(([role, spec]) => ({ topic: topics[role]!, partitions: spec.partitions ?? config.partitions })),
    { topic: topics.dlq!, partitions: 1 },
  ], undefined, config.clientConfig);

  const schemaRegistry = config.schemaRegistryUrl ? { url: config.schemaRegistryUrl } : undefined;
  const formats = resolveFormats(topology as Topology<unknown>, config.formats ?? {}, config.schemaRegistryUrl, config.inputWriterVersion);
  const serdeFor = <T>(role: string, contract: Contract<T>): Promise<TopicSerde<T>> =>
    prepared(createTopicSerde({ contract, schemaRegistry, topic: topics[role]!, role, format: formats[role]! }));
  const inputSerde = await prepared(
    createTopicSerde({
      contract: topology.input.contract,
      schemaRegistry,
      topic: topics.input!,
      role: 'input',
      format: formats.input!,
      ...(config.inputWriterVersion === undefined ? {} : { headerlessWriterVersion: config.inputWriterVersion }),
    }),
  );
  const deadLetterSerde = await serdeFor('dlq', DeadLetterContract);
  interface OutputRoute {
    readonly topic: string;
    readonly serde: TopicSerde<unknown>;
    readonly key: (value: unknown, envelope: Envelope<unknown>) => string | null;
    lastHeaders?: Readonly<Record<string, Buffer>>;
    kafkaHeaders?: MessageHeader[];
    /**
     * The same headers plus a traceparent slot that is overwritten per record: produce() copies
     * headers into librdkafka synchronously, so one array per output serves every record.
     */
    tracedHeaders?: MessageHeader[];
    traceSlot?: { [TRACEPARENT]: Buffer };
    /** Its records are mentions (the topology's KPI sources say so): counted for the KPIs. */
    mention?: boolean;
  }
  const outputs = new Map<string, OutputRoute>();
  for (const [role, spec] of Object.entries(topology.outputs)) {
    const contract = spec.contract as Contract<unknown>;
    const keyField = contract.keyField;
    const key = spec.key
      ? (value: unknown) => spec.key!(value)
      : keyField
        ? (value: unknown) => String((value as Record<string, unknown>)[keyField])
        : (_: unknown, envelope: Envelope<unknown>) => envelope.key;
    outputs.set(role, { topic: topics[role]!, serde: await serdeFor(role, contract), key });
  }

  // The run's spend meter: the source counts ingested events, steps pass it to billable operators.
  const meter = new SpendMeter(config.prices ?? {
    perEvent: SETTINGS.pricePerEventUsd.default,
    perEnrichmentCall: SETTINGS.pricePerEnrichmentCallUsd.default,
    perDetectorCall: SETTINGS.pricePerDetectorCallUsd.default,
  });
  const telemetry =
    config.telemetry === 'off'
      ? null
      : new TopologyTelemetry({
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
  telemetry?.addTopologyGauges(topology.gauges ?? []);
  if (telemetry !== null) for (const [role, output] of outputs) output.mention = telemetry.kpis.isMentionOutput(role);
  // Labels for the feedback KPIs: followed without a consumer group while the run lasts.
  const labelsTopic = telemetry === null ? undefined : topology.kpis?.labelsTopic;
  const labelsStop = new AbortController();
  let labelsDone: Promise<void> = Promise.resolve();
  if (labelsTopic !== undefined) {
    await ensureTopics(config.brokers, [{ topic: labelsTopic, partitions: config.partitions }], undefined, config.clientConfig);
    labelsDone = followLabels({
      brokers: config.brokers,
      topic: labelsTopic,
      onLabel: (mentionId, verdict, atMs) => telemetry!.kpis.labelReceived(mentionId, verdict, atMs),
      log,
      signal: labelsStop.signal,
      clientConfig: config.clientConfig,
    });
  }
  const propagate = telemetry !== null && config.traceContext !== false;
  const traceIds = new TraceIdGenerator();
  /** The traceparent an output carries: its input's (same trace, linked back), else a new trace. */
  const traceparentOf = (origin: RecordOrigin): Buffer => (origin as TracedOrigin).traceparent ?? traceIds.nextTraceparent(false);


  let fatalError: Error | null = null;
  let endpoints: HttpEndpoints | null = null;
  let stopping: Promise<RunSummary> | null = null;
  const exactlyOnce = config.exactlyOnce === true;
  const sink = new KafkaSink({
    brokers: config.brokers,
    clientId: `signalpath-${topology.name}`,
    clientConfig: config.clientConfig,
    ...(exactlyOnce ? { transactionalId: `signalpath.${config.group}.${config.instanceId ?? hostname()}`, owns: (origin: RecordOrigin) => source.owns(origin), letGo: (origin: RecordOrigin, settle: () => void) => source.whenLetGo(origin, settle) } : {}),
  });

  const deadLetter = (origin: RecordOrigin, step: string, error: unknown, settle: () => void): void => {
    const value = deadLetterFor(origin, step, error, Date.now());
    const encoded = deadLetterSerde.encode(value);
    const headers = !propagate ? encoded.headers : { ...encoded.headers, [TRACEPARENT]: traceparentOf(origin) };
    sink.send(topics.dlq!, origin.key, encoded.value, toKafkaHeaders(headers), null, createSettlement(settle, 'dead letter'), 'dead-lettered', origin);
    deadLettered++;
    telemetry?.steps.countFailed(step);
    if (deadLettered <= 5 || deadLettered % 1000 === 0) log(`dead letter #${deadLettered} from ${step} (${origin.topic}[${origin.partition}]@${origin.offset}): ${describeError(error)}`);
  };
  let deadLettered = 0;
  /** Outputs of records whose partition was revoked meanwhile: their next owner produces them. */
  let abandoned = 0;

  const states =
    config.state === 'off'
      ? null
      : new StepStates({
          topology: config.stateNamespace ?? topology.name,
          brokers: config.brokers,
          clientConfig: config.clientConfig,
          log,
          // Through the topology's producer: ordered with its outputs, and inside its transactions.
          write: (topic, key, value) => sink.sendState(topic, key, value),
        });
  if (states !== null) telemetry?.addStateMetrics(states);

  const source = new KafkaSource<In>({
    brokers: config.brokers,
    group: config.group,
    topic: topics.input!,
    decode: (bytes, headers) => inputSerde.decode(bytes, headers) as In,
    resolveWriter: (error, bytes) => (error instanceof UnknownWriterSchemaError ? inputSerde.resolveWriter(bytes) : null),
    eventTime: topology.input.eventTime,
    onDeadLetter: deadLetter,
    maxUnsettled: config.maxUnsettled,
    partitionHighWater: config.partitionHighWater,
    partitionLowWater: Math.floor(config.partitionHighWater / 2),
    batchSize: config.batchSize,
    commitIntervalMs: config.commitIntervalMs,
    allowedLatenessMs: config.allowedLatenessMs,
    idleTimeoutMs: config.partitionIdleTimeoutMs,
    maxEventTimeDriftMs: config.maxEventTimeDriftMs ?? (SETTINGS.maxEventTimeDriftMs.default as number),
    startFrom: config.startFrom,
    clientConfig: config.clientConfig,
    maxRecordBytes: config.maxRecordBytes,
    log,
    ...(telemetry === null ? {} : { telemetry }),
    ...(states === null ? {} : { onAssigned: async (partitions: readonly number[]) => void (await states.restore(partitions)) }),
    ...(exactlyOnce
      ? { commitBy: 'transaction' as const, beforeRevoke: () => commitTransaction(true) }
      : states === null
        ? {}
        : { onRevoked: (committed: ReadonlyMap<number, number>) => states.snapshot(committed) }),
  });

  // Exactly-once: one transaction at a time, ended every commitIntervalMs, on revoke and at stop.
  let transactionChain: Promise<void> = Promise.resolve();
  let transactionRunning = false;
  let finalCommitDone = false;
  let lastSnapshotAtMs = Date.now();
  const snapshotIntervalMs = config.stateSnapshotIntervalMs ?? (SETTINGS.stateSnapshotIntervalMs.default as number);
  function commitTransaction(withSnapshot: boolean): Promise<void> {
    const run = transactionChain.then(async () => {
      if (finalCommitDone || fatalError !== null) return;
      transactionRunning = true;
      try {
        const { offsets, aborted } = await sink.commitTransaction(
          source.transactionConsumer,
          () => source.offsetsToCommit(),
          (offsets) => {
            if (states === null || states.statefulSteps().length === 0) return;
            if (!withSnapshot && Date.now() - lastSnapshotAtMs < snapshotIntervalMs) return;
            // The snapshot joins the transaction that commits these offsets.
            const committed = source.committedPositions();
            for (const { partition, offset } of offsets) committed.set(partition, offset);
            states.snapshot(committed);
            lastSnapshotAtMs = Date.now();
          },
          config.drainTimeoutMs,
        );
        if (aborted) {
          log('exactly-once: the broker refused a transaction commit (the group rebalanced under it); aborted, and re-reading from the committed offsets');
          source.rewind();
        } else {
          source.markCommitted(offsets);
        }
      } finally {
        transactionRunning = false;
      }
    });
    transactionChain = run.catch(() => {});
    return run;
  }
  let transactionTimer: NodeJS.Timeout | undefined;

  const fail = (error: Error): void => {
    if (fatalError !== null) return;
    fatalError = error;
    log(`fatal: ${error.message}`);
    void stop('fatal');
  };

  await sink.connect(fail);

  // Build the steps: each gets its context (name, dead-letter route) once, at start, and the
  // telemetry wrapper around it (counts and stage stamps; the operator never sees it).
  const input$ = new Subject<Envelope<In>>();
  let stream = input$.asObservable() as import('rxjs').Observable<unknown>;
  for (const [index, step] of topology.chain.entries()) {
    const context: StepContext = {
      topologyName: topology.name,
      stepName: step.name,
      deadLetter: (envelope, error) => deadLetter(envelope.origin, step.name, error, () => envelope.settlement.settle('dead-lettered')),
      log: (message) => log(`[${step.name}] ${message}`),
      meter,
      ...(states === null ? {} : { state: states.handleFor(step.name) }),
      ...(telemetry === null ? {} : { annotate: (envelope: Envelope<unknown>, notes: Readonly<Record<string, string | number | boolean>>) => telemetry.annotate(envelope.origin as TracedOrigin, notes) }),
    };
    const operator = step.build(context);
    stream = stream.pipe(telemetry === null ? operator : telemetry.steps.wrap(index, operator));
  }

  let outputsComplete!: () => void;
  const outputsDone = new Promise<void>((resolve) => (outputsComplete = resolve));
  const subscription: Subscription = stream.subscribe({
    next: (item) => {
      const routed = item as RoutedEnvelope;
      if (!source.owns(routed.origin)) {
        // Read under an assignment this instance has lost (or is losing, or rewound): never committed
        // here, and read again, so producing it would only duplicate it. Settled once that is safe.
        abandoned++;
        source.whenLetGo(routed.origin, () => routed.settlement.settle('dropped'));
        return;
      }
      const output = outputs.get(routed.output);
      if (output === undefined) {
        fail(new Error(`topology ${topology.name}: a step routed a record to "${routed.output}", which is not a declared output (${[...outputs.keys()].join(', ')})`));
        return;
      }
      let encoded: { value: Buffer; headers: Readonly<Record<string, Buffer>> };
      try {
        encoded = output.serde.encode(routed.value);
      } catch (error) {
        deadLetter(routed.origin, `encode-${routed.output}`, error, () => routed.settlement.settle('dead-lettered'));
        return;
      }
      // Outputs carry their own contract's headers (input headers describe the input's schema). The
      // serde hands out the same header object for every record, so its Kafka form is built once.
      if (encoded.headers !== output.lastHeaders) {
        output.lastHeaders = encoded.headers;
        output.kafkaHeaders = toKafkaHeaders(encoded.headers);
        output.traceSlot = { [TRACEPARENT]: Buffer.alloc(0) };
        output.tracedHeaders = [...(output.kafkaHeaders ?? []), output.traceSlot];
      }
      let headers = output.kafkaHeaders;
      if (propagate) {
        output.traceSlot![TRACEPARENT] = traceparentOf(routed.origin);
        headers = output.tracedHeaders;
      }
      sink.send(output.topic, output.key(routed.value, routed), encoded.value, headers, null, routed.settlement, 'delivered', routed.origin);
      if (output.mention === true) telemetry!.kpis.mentionEmitted(routed.value, Date.now());
    },
    error: (error: unknown) => fail(new Error(`a step failed and stopped the stream: ${describeError(error)}`)),
    complete: () => outputsComplete(),
  });

  // Steps attach to their state handles when subscribed: now it is known which keep state.
  if (states !== null && states.statefulSteps().length > 0) {
    await ensureTopics(config.brokers, states.topicSpecs(), undefined, config.clientConfig);
    log(`operator state of ${states.statefulSteps().join(', ')} kept in ${states.topicSpecs().map((t) => t.topic).join(', ')}`);
  }
  // Snapshots are taken at a commit, so each holds the offsets it matches.
  const snapshotTimer =
    states === null || states.statefulSteps().length === 0 || exactlyOnce
      ? undefined
      : setInterval(() => {
          if (fatalError !== null || stopping !== null) return;
          source.commit(false);
          states.snapshot(source.committedPositions());
        }, config.stateSnapshotIntervalMs ?? (SETTINGS.stateSnapshotIntervalMs.default as number));
  snapshotTimer?.unref();

  const feed =
    telemetry === null
      ? (envelope: Envelope<In>) => {
          meter.add('ingested-event', 1);
          input$.next(envelope);
        }
      : (envelope: Envelope<In>) => {
          meter.add('ingested-event', 1);
          telemetry.steps.countEntered();
          input$.next(envelope);
        };
  await source.start(feed, fail);
  if (exactlyOnce) {
    transactionTimer = setInterval(() => {
      if (!transactionRunning && stopping === null) commitTransaction(false).catch((error: unknown) => fail(error as Error));
    }, config.commitIntervalMs);
    transactionTimer.unref();
  }

  if (config.metricsPort !== undefined && config.metricsPort > 0) {
    const registry = telemetry?.registry ?? new (await import('prom-client')).Registry();
    const readyMaxLag = config.readyMaxLag ?? 10_000;
    telemetry?.addSourceGauges(() => source.readiness(readyMaxLag).lag, () => source.stats.unsettled);
    try {
      endpoints = await startHttpEndpoints({
        port: config.metricsPort,
        registry,
        health: () => ({ ok: fatalError === null, detail: fatalError === null ? { topology: topology.name } : { topology: topology.name, error: (fatalError as Error).message } }),
        ready: () => {
          const readiness = source.readiness(readyMaxLag);
          return { ok: readiness.ready && fatalError === null && stopping === null, detail: { topology: topology.name, assignedPartitions: readiness.assignedPartitions, lag: readiness.lag, maxLag: readyMaxLag } };
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
      log(`metrics on http://0.0.0.0:${endpoints.port}/metrics (also /healthz, /readyz${telemetry === null ? '' : ', and the status page /status'})`);
    } catch (error) {
      // Another process holds the port: run on without endpoints rather than not at all.
      log(`cannot serve metrics on port ${config.metricsPort} (--metrics-port / SIGNALPATH_METRICS_PORT): ${(error as Error).message}; running without /metrics, /healthz, /readyz`);
    }
  }
  log(`running ${topology.name}: ${topics.input} → ${Object.keys(topology.outputs).map((r) => topics[r]).join(', ')} (group ${config.group}, dead letters → ${topics.dlq})`);

  // Watches for two ends: the input going idle (with --until-idle), and a deadlock — consumption
  // blocked at --max-unsettled while nothing settles, because steps hold every unsettled record
  // waiting for input that cannot come. A deadlock is fatal, with a message that says what to change.
  const untilIdleMs = config.untilIdleMs;
  const watchTimer = setInterval(() => {
    const blockedMs = source.blockedForMs();
    if (blockedMs >= config.drainTimeoutMs) {
      fail(
        new Error(
          `consumption has been blocked for ${blockedMs} ms with ${source.stats.unsettled} records unsettled (the --max-unsettled limit, ${config.maxUnsettled}) and none settling: ` +
            'steps hold them all (windows, reservoirs or queues waiting for the watermark). Raise --max-unsettled / SIGNALPATH_MAX_UNSETTLED above what the steps hold, or bound what they hold',
        ),
      );
      return;
    }
    if (untilIdleMs === undefined) return;
    const idle = source.idleForMs();
    if (idle !== null && idle >= untilIdleMs && sink.inFlight === 0) void stop('idle');
  }, Math.min(200, untilIdleMs ?? 200));
  watchTimer.unref();

  let resolveDone!: (summary: RunSummary) => void;
  const done = new Promise<RunSummary>((resolve) => (resolveDone = resolve));

  async function stop(reason: RunSummary['reason']): Promise<RunSummary> {
    if (stopping) return stopping;
    stopping = (async () => {
      clearInterval(watchTimer);
      clearInterval(snapshotTimer);
      clearInterval(transactionTimer);
      await source.stopFetching();
      let drained = false;
      if (fatalError === null) {
        // Completing the input lets stateful steps flush what they hold (windows, reservoirs).
        input$.complete();
        const deadline = Date.now() + config.drainTimeoutMs;
        await Promise.race([outputsDone, sleep(config.drainTimeoutMs)]);
        drained = await source.waitSettled(Math.max(0, deadline - Date.now()));
        await sink.flush(Math.max(1000, deadline - Date.now()));
        if (!drained) log(`drain deadline (${config.drainTimeoutMs} ms) passed with ${source.stats.unsettled} records unsettled; they will be re-read after restart`);
      }
      subscription.unsubscribe();
      if (exactlyOnce) {
        if (fatalError === null) {
          // The last transaction: what settled in the drain, with the last snapshot.
          try {
            await commitTransaction(true);
          } catch (error) {
            fail(error as Error);
          }
        }
        finalCommitDone = true;
        if (fatalError !== null) await sink.abortTransaction(5_000);
        log(`exactly-once: ${sink.transactionsCommitted} transactions committed`);
      } else if (states !== null && fatalError === null && states.statefulSteps().length > 0) {
        // The last snapshot, matching the last commit: the next start resumes from both.
        source.commit(true);
        states.snapshot(source.committedPositions());
        await sink.flush(config.drainTimeoutMs);
      }
      if (abandoned + sink.abandoned > 0) log(`${abandoned + sink.abandoned} outputs of records from revoked or rewound partitions were left to be read again`);
      if (source.stats.skippedCompleted > 0) log(`${source.stats.skippedCompleted} records were skipped: the commit they were read from says they completed (their outputs were sent before the handover)`);
      if (source.stats.redelivered > 0) log(`the client delivered ${source.stats.redelivered} records again within their assignment; each was skipped (its first copy was processed)`);
      // Commit only settled offsets: after a fatal error too, since what settled is durable.
      await source.close();
      await sink.close();
      labelsStop.abort();
      await labelsDone;
      await telemetry?.close();
      await endpoints?.close();
      const summary: RunSummary = {
        topology: topology.name,
        reason: fatalError ? 'fatal' : reason,
        ...(fatalError ? { error: (fatalError as Error).message } : {}),
        consumed: source.stats.consumed,
        produced: sink.delivered,
        deadLettered,
        maxUnsettledSeen: source.stats.maxUnsettledSeen,
        redelivered: source.stats.redelivered,
        skippedCompleted: source.stats.skippedCompleted,
        drained,
        elapsedMs: Date.now() - startedAt,
        spend: meter.report(),
        ...processUsage(),
        ...(topology.report === undefined ? {} : { topologyReport: topology.report() }),
      };
      resolveDone(summary);
      return summary;
    })();
    return stopping;
  }

  return {
    done,
    stop: () => stop('stopped'),
    stats: () => ({ ...source.stats, produced: sink.produced, delivered: sink.delivered }),
    topics,
    metricsPort: endpoints?.port ?? null,
    telemetry,
    meter,
    state: states,
  };
}

/** Topic per role: declared defaults, overridden by `--topic role=name`. Unknown roles fail. */
export function resolveTopics(topology: Topology<unknown>, overrides: Readonly<Record<string, string>>): Record<string, string> {
  const topics: Record<string, string> = { input: topology.input.topic, dlq: topology.deadLetterTopic };
  for (const [role, spec] of Object.entries(topology.outputs)) topics[role] = spec.topic;
  for (const [role, name] of Object.entries(overrides)) {
    if (!(role in topics)) {
      throw new ConfigError(`--topic ${role}=${name}: "${role}" is not a role of topology ${topology.name}; its roles are ${Object.keys(topics).join(', ')}`);
    }
    topics[role] = name;
  }
  return topics;
}

/**
 * The format of each role's topic: `formats` (from `--format role=format`) over the default —
 * `avro-confluent` with a schema registry, `avro` without. Checks everything a run could only find
 * out later: unknown roles, a registry format without a registry, JSON for the dead letters (whose
 * record carries bytes), an input writer version the contract does not have.
 */
export function resolveFormats(
  topology: Topology<unknown>,
  formats: Readonly<Record<string, TopicFormat>>,
  schemaRegistryUrl: string | undefined,
  inputWriterVersion?: number,
): Record<string, TopicFormat> {
  const roles = ['input', ...Object.keys(topology.outputs), 'dlq'];
  const resolved: Record<string, TopicFormat> = {};
  for (const role of roles) resolved[role] = schemaRegistryUrl ? 'avro-confluent' : 'avro';
  for (const [role, format] of Object.entries(formats)) {
    if (!roles.includes(role)) {
      throw new ConfigError(`--format ${role}=${format}: "${role}" is not a role of topology ${topology.name}; its roles are ${roles.join(', ')}`);
    }
    if (format === 'avro-confluent' && !schemaRegistryUrl) {
      throw new ConfigError(`--format ${role}=avro-confluent needs a schema registry: set SCHEMA_REGISTRY_URL (or --schema-registry <url>)`);
    }
    if (format === 'json' && role === 'dlq') {
      throw new ConfigError(`--format dlq=json: dead letters carry the original bytes, which JSON cannot; use avro or avro-confluent`);
    }
    resolved[role] = format;
  }
  if (inputWriterVersion !== undefined) {
    const versions = topology.input.contract.versions.map((v) => v.version);
    if (!versions.includes(inputWriterVersion)) {
      throw new ConfigError(`--input-writer-version ${inputWriterVersion}: ${topology.input.contract.name} has versions ${versions.join(', ')}`);
    }
    if (resolved.input !== 'avro') {
      throw new ConfigError(`--input-writer-version applies to plain Avro input (format avro); the input's format is ${resolved.input}`);
    }
  }
  return resolved;
}

function toKafkaHeaders(headers: Readonly<Record<string, Buffer>>): MessageHeader[] | undefined {
  const names = Object.keys(headers);
  if (names.length === 0) return undefined;
  return names.map((name) => ({ [name]: headers[name]! }));
}

async function prepared<T>(serde: TopicSerde<T>): Promise<TopicSerde<T>> {
  await serde.prepare();
  return serde;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
