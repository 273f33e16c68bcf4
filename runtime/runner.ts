/**
 * The topology runner: wires a {@link Topology} between a {@link KafkaSource} and a {@link KafkaSink}.
 *
 * Lifecycle: create missing topics → connect the producer → subscribe → run until stopped (a signal,
 * `--until-idle`, or a fatal error). Stopping drains: stop fetching, complete the input so that
 * stateful steps flush what they hold, wait (up to the drain deadline) for every record to settle,
 * flush the producer, commit, disconnect. A fatal error stops without committing anything unsettled,
 * so a restart re-reads it (at-least-once).
 *
 * Its parts (runtime/runner/): topics.ts (topic and format per role), outputs.ts (output routes and
 * dead letters), chain.ts (chain assembly, shared with the test driver), transactions.ts (the
 * exactly-once transaction loop), state.ts (changelogs and snapshots), telemetry.ts (metrics, labels,
 * endpoints), watchdog.ts (idle and deadlock), shutdown.ts (drain, last commit, close, summary).
 * This file puts them together in order.
 */
import { Subject } from 'rxjs';
import type { Contract } from '../schemas/index.js';
import { DeadLetterContract } from '../schemas/index.js';
import type { Envelope, RecordOrigin } from '../core/envelope.js';
import { hostname } from 'node:os';
import { checkBrokerAccess, ensureTopics } from './kafka/admin.js';
import { KafkaSink } from './kafka/sink.js';
import { KafkaSource, type SourceStats } from './kafka/source.js';
import { createTopicSerde, UnknownWriterSchemaError, type TopicSerde } from './serde/index.js';
import { describeError } from './dead-letter.js';
import type { RoutedEnvelope, Topology } from './topology.js';
import { SETTINGS, type RunConfig } from './config.js';
import type { TracedOrigin } from './telemetry/stage-clock.js';
import type { TopologyTelemetry } from './telemetry/topology-telemetry.js';
import { SpendMeter } from './cost/spend-meter.js';
import type { StepStates } from './state/step-states.js';
import { assembleChain } from './runner/chain.js';
import { createOutputRoutes, RunOutputs, type OutputRoute } from './runner/outputs.js';
import { shutDown, type RunParts, type RunSummary } from './runner/shutdown.js';
import { createStepStates, prepareChangelogs, snapshotIntervalMsOf, snapshotOrStop, startSnapshotTimer } from './runner/state.js';
import { createRunTelemetry, followRunLabels, startRunEndpoints } from './runner/telemetry.js';
import { resolveFormats, resolveTopics } from './runner/topics.js';
import { TransactionLoop } from './runner/transactions.js';
import { startWatchdog } from './runner/watchdog.js';

export { resolveFormats, resolveTopics } from './runner/topics.js';
export type { RunSummary } from './runner/shutdown.js';

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

/** The run's own mutable state: its first fatal error, and its stop once begun. */
class RunControl {
  fatalError: Error | null = null;
  stopping: Promise<RunSummary> | null = null;
  #parts: RunParts<unknown> | null = null;
  #partsReady!: (parts: RunParts<unknown>) => void;
  readonly #ready = new Promise<RunParts<unknown>>((resolve) => (this.#partsReady = resolve));
  #resolveDone!: (summary: RunSummary) => void;
  readonly done = new Promise<RunSummary>((resolve) => (this.#resolveDone = resolve));

  constructor(private readonly log: (message: string) => void) {}

  /** The run's parts are all in place: a stop asked for before waits for this. */
  started(parts: RunParts<unknown>): void {
    this.#parts = parts;
    this.#partsReady(parts);
  }

  readonly fail = (error: Error): void => {
    if (this.fatalError !== null) return;
    this.fatalError = error;
    this.log(`fatal: ${error.message}`);
    void this.stop('fatal');
  };

  /** Begins the stop (idempotent). */
  stop(reason: RunSummary['reason']): Promise<RunSummary> {
    this.stopping ??= (async () => {
      const parts = this.#parts ?? (await this.#ready);
      const summary = await shutDown(parts, { error: () => this.fatalError, fail: this.fail }, reason);
      this.#resolveDone(summary);
      return summary;
    })();
    return this.stopping;
  }
}

/** Starts `topology`; resolves once it is connected and consuming. */
export async function runTopology<In>(topology: Topology<In>, config: RunConfig): Promise<RunningTopology> {
  const startedAt = Date.now();
  const generic = topology as Topology<unknown>;
  const topics = resolveTopics(generic, config.topics);
  await prepareTopics(topology, config, topics);
  const serdes = await prepareSerdes(topology, config, topics);
  const meter = runMeter(config);
  const telemetry = createRunTelemetry(generic, config, meter, serdes.routes);
  const labels = await followRunLabels(generic, config, telemetry);
  const control = new RunControl(config.log);
  const fail = control.fail;
  const exactlyOnce = config.exactlyOnce === true;
  // The sink, the outputs and the transaction loop reach the source (created after them, since it
  // reaches them) through functions that are called only once the run is under way.
  const sink = new KafkaSink({
    brokers: config.brokers,
    clientId: `signalpath-${topology.name}`,
    clientConfig: config.clientConfig,
    ...(exactlyOnce ? { transactionalId: `signalpath.${config.group}.${config.instanceId ?? hostname()}`, owns: (origin: RecordOrigin) => source.owns(origin), letGo: (origin: RecordOrigin, settle: () => void) => source.whenLetGo(origin, settle) } : {}),
  });
  const outputs = new RunOutputs({
    topologyName: topology.name,
    routes: serdes.routes,
    deadLetterTopic: topics.dlq!,
    deadLetterSerde: serdes.deadLetter as TopicSerde<unknown>,
    sink,
    ownership: () => source,
    telemetry,
    propagate: telemetry !== null && config.traceContext !== false,
    log: config.log,
    fail,
  });
  const states = createStepStates(generic, config, sink);
  if (states !== null) telemetry?.addStateMetrics(states);
  const transactions = exactlyOnce
    ? new TransactionLoop({ sink, source: () => source as KafkaSource<unknown>, states, snapshotIntervalMs: snapshotIntervalMsOf(config), drainTimeoutMs: config.drainTimeoutMs, log: config.log, failed: () => control.fatalError !== null })
    : null;
  const source: KafkaSource<In> = createSource(topology, config, { topic: topics.input!, serde: serdes.input, outputs, telemetry, states, transactions, fail });
  await sink.connect(fail);

  const input$ = new Subject<Envelope<In>>();
  const { subscription, outputsDone } = subscribeChain(topology, input$, { outputs, meter, states, telemetry, fail, log: config.log });
  await prepareChangelogs(states, config);
  const timers = [startSnapshotTimer(states, config, source, () => control.fatalError === null && control.stopping === null, fail)];
  const parts: RunParts<In> = { topology, config, startedAt, sink, source, states, telemetry, meter, outputs, transactions, labels, input$, subscription, outputsDone, timers, endpoints: null };
  // From here a fatal error stops the run with whatever of it has started.
  control.started(parts as RunParts<unknown>);

  await source.start(feeder(input$, meter, telemetry), fail);
  transactions?.start(config.commitIntervalMs, () => control.stopping !== null, fail);
  parts.endpoints = await startRunEndpoints(generic, config, telemetry, source as KafkaSource<unknown>, { fatalError: () => control.fatalError, stopping: () => control.stopping !== null });
  config.log(`running ${topology.name}: ${topics.input} → ${Object.keys(topology.outputs).map((r) => topics[r]).join(', ')} (group ${config.group}, dead letters → ${topics.dlq})`);
  timers.push(
    startWatchdog({ source, sink, drainTimeoutMs: config.drainTimeoutMs, maxUnsettled: config.maxUnsettled, untilIdleMs: config.untilIdleMs, fail, idle: () => void control.stop('idle') }),
  );

  return {
    done: control.done,
    stop: () => control.stop('stopped'),
    stats: () => ({ ...source.stats, produced: sink.produced, delivered: sink.delivered }),
    topics,
    metricsPort: parts.endpoints?.port ?? null,
    telemetry,
    meter,
    state: states,
  };
}

/** Credentials or a certificate the broker refuses fail here, promptly and by setting name; then missing topics are created. */
async function prepareTopics<In>(topology: Topology<In>, config: RunConfig, topics: Readonly<Record<string, string>>): Promise<void> {
  if (config.clientConfig !== undefined) await checkBrokerAccess(config.brokers, config.clientConfig);
  await ensureTopics(config.brokers, [
    { topic: topics.input!, partitions: topology.input.partitions ?? config.partitions },
    ...Object.entries(topology.outputs).map(([role, spec]) => ({ topic: topics[role]!, partitions: spec.partitions ?? config.partitions })),
    { topic: topics.dlq!, partitions: 1 },
  ], undefined, config.clientConfig);
}

interface RunSerdes<In> {
  readonly input: TopicSerde<In>;
  readonly deadLetter: TopicSerde<unknown>;
  readonly routes: Map<string, OutputRoute>;
}

/** Every role's serde, prepared (registry schemas registered or fetched) before the first record. */
async function prepareSerdes<In>(topology: Topology<In>, config: RunConfig, topics: Readonly<Record<string, string>>): Promise<RunSerdes<In>> {
  const schemaRegistry = config.schemaRegistryUrl ? { url: config.schemaRegistryUrl } : undefined;
  const formats = resolveFormats(topology as Topology<unknown>, config.formats ?? {}, config.schemaRegistryUrl, config.inputWriterVersion);
  const serdeFor = <T>(role: string, contract: Contract<T>): Promise<TopicSerde<T>> =>
    prepared(createTopicSerde({ contract, schemaRegistry, topic: topics[role]!, role, format: formats[role]! }));
  const input = await prepared(
    createTopicSerde({
      contract: topology.input.contract,
      schemaRegistry,
      topic: topics.input!,
      role: 'input',
      format: formats.input!,
      ...(config.inputWriterVersion === undefined ? {} : { headerlessWriterVersion: config.inputWriterVersion }),
    }),
  );
  const deadLetter = (await serdeFor('dlq', DeadLetterContract)) as TopicSerde<unknown>;
  const routes = await createOutputRoutes(topology as Topology<unknown>, topics, serdeFor);
  return { input, deadLetter, routes };
}

/** The run's spend meter: the source counts ingested events, steps pass it to billable operators. */
function runMeter(config: RunConfig): SpendMeter {
  return new SpendMeter(config.prices ?? {
    perEvent: SETTINGS.pricePerEventUsd.default,
    perEnrichmentCall: SETTINGS.pricePerEnrichmentCallUsd.default,
    perDetectorCall: SETTINGS.pricePerDetectorCallUsd.default,
  });
}

interface SourceWiring<In> {
  readonly topic: string;
  readonly serde: TopicSerde<In>;
  readonly outputs: RunOutputs;
  readonly telemetry: TopologyTelemetry | null;
  readonly states: StepStates | null;
  readonly transactions: TransactionLoop | null;
  readonly fail: (error: Error) => void;
}

function createSource<In>(topology: Topology<In>, config: RunConfig, w: SourceWiring<In>): KafkaSource<In> {
  const { states, transactions } = w;
  return new KafkaSource<In>({
    brokers: config.brokers,
    group: config.group,
    topic: w.topic,
    decode: (bytes, headers) => w.serde.decode(bytes, headers),
    resolveWriter: (error, bytes) => (error instanceof UnknownWriterSchemaError ? w.serde.resolveWriter(bytes) : null),
    eventTime: topology.input.eventTime,
    onDeadLetter: (origin, step, error, settle) => w.outputs.deadLetter(origin, step, error, settle),
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
    log: config.log,
    ...(w.telemetry === null ? {} : { telemetry: w.telemetry }),
    ...(states === null ? {} : { onAssigned: async (partitions: readonly number[]) => void (await states.restore(partitions)) }),
    ...(transactions !== null
      ? { commitBy: 'transaction' as const, beforeRevoke: () => transactions.commit(true) }
      : states === null
        ? {}
        : { onRevoked: (committed: ReadonlyMap<number, number>) => snapshotOrStop(states, committed, w.fail) }),
  });
}

interface ChainRun {
  readonly outputs: RunOutputs;
  readonly meter: SpendMeter;
  readonly states: StepStates | null;
  readonly telemetry: TopologyTelemetry | null;
  readonly fail: (error: Error) => void;
  readonly log: (message: string) => void;
}

/**
 * Builds the steps (each gets its context once, at start, and the telemetry wrapper around it) and
 * subscribes: routed records go to their outputs, a stream error stops the run.
 */
function subscribeChain<In>(topology: Topology<In>, input$: Subject<Envelope<In>>, run: ChainRun): { subscription: import('rxjs').Subscription; outputsDone: Promise<void> } {
  const { outputs, states, telemetry } = run;
  const stream = assembleChain(topology, input$.asObservable(), {
    meter: run.meter,
    deadLetter: (step, envelope, error) => outputs.deadLetter(envelope.origin, step, error, () => envelope.settlement.settle('dead-lettered')),
    log: (step, message) => run.log(`[${step}] ${message}`),
    ...(states === null ? {} : { stateFor: (step: string) => states.handleFor(step) }),
    ...(telemetry === null
      ? {}
      : {
          annotate: (envelope: Envelope<unknown>, notes: Readonly<Record<string, string | number | boolean>>) => telemetry.annotate(envelope.origin as TracedOrigin, notes),
          wrap: (index, operator) => telemetry.steps.wrap(index, operator),
        }),
  });
  let outputsComplete!: () => void;
  const outputsDone = new Promise<void>((resolve) => (outputsComplete = resolve));
  const subscription = stream.subscribe({
    next: (item) => outputs.route(item as RoutedEnvelope),
    error: (error: unknown) => run.fail(new Error(`a step failed and stopped the stream: ${describeError(error)}`)),
    complete: () => outputsComplete(),
  });
  return { subscription, outputsDone };
}

/** What the source calls per record: counted as ingested (and as entering the chain), then fed in. */
function feeder<In>(input$: Subject<Envelope<In>>, meter: SpendMeter, telemetry: TopologyTelemetry | null): (envelope: Envelope<In>) => void {
  if (telemetry === null) {
    return (envelope) => {
      meter.add('ingested-event', 1);
      input$.next(envelope);
    };
  }
  return (envelope) => {
    meter.add('ingested-event', 1);
    telemetry.steps.countEntered();
    input$.next(envelope);
  };
}

async function prepared<T>(serde: TopicSerde<T>): Promise<TopicSerde<T>> {
  await serde.prepare();
  return serde;
}
