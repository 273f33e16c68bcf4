/**
 * Stopping a run: stop fetching, complete the input so that stateful steps flush what they hold,
 * wait (up to the drain deadline) for every record to settle, flush the producer, make the last
 * commit (the last transaction, or the last commit and matching snapshot), then close everything and
 * summarise. A fatal error stops without committing anything unsettled, so a restart re-reads it.
 */
import type { Subject, Subscription } from 'rxjs';
import type { Envelope } from '../../core/envelope.js';
import type { RunConfig } from '../config.js';
import type { SpendMeter, SpendReport } from '../cost/spend-meter.js';
import { processUsage } from '../cost/process-usage.js';
import type { KafkaSink } from '../kafka/sink.js';
import type { KafkaSource } from '../kafka/source.js';
import type { StepStates } from '../state/step-states.js';
import type { HttpEndpoints } from '../telemetry/http-endpoints.js';
import type { TopologyTelemetry } from '../telemetry/topology-telemetry.js';
import type { Topology } from '../topology.js';
import type { RunOutputs } from './outputs.js';
import { keepsState, snapshotOrStop } from './state.js';
import type { LabelFollower } from './telemetry.js';
import type { TransactionLoop } from './transactions.js';

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

/** The parts of a running topology that stopping drains and closes. */
export interface RunParts<In> {
  readonly topology: Topology<In>;
  readonly config: RunConfig;
  readonly startedAt: number;
  readonly sink: KafkaSink;
  readonly source: KafkaSource<In>;
  readonly states: StepStates | null;
  readonly telemetry: TopologyTelemetry | null;
  readonly meter: SpendMeter;
  readonly outputs: RunOutputs;
  readonly transactions: TransactionLoop | null;
  readonly labels: LabelFollower;
  readonly input$: Subject<Envelope<In>>;
  readonly subscription: Subscription;
  /** Resolves when the chain's output completes (steps flushed). */
  readonly outputsDone: Promise<void>;
  /** Intervals to clear first (watchdog, snapshots); more are added as the run starts. */
  readonly timers: (NodeJS.Timeout | undefined)[];
  endpoints: HttpEndpoints | null;
}

/** Whether the run has failed; `fail` records the first fatal error. */
export interface RunFailure {
  readonly error: () => Error | null;
  readonly fail: (error: Error) => void;
}

/** The whole stop sequence; resolves with the run's summary. */
export async function shutDown<In>(run: RunParts<In>, failure: RunFailure, reason: RunSummary['reason']): Promise<RunSummary> {
  for (const timer of run.timers) clearInterval(timer);
  run.transactions?.stopTimer();
  await run.source.stopFetching();
  const drained = failure.error() === null ? await drain(run) : false;
  run.subscription.unsubscribe();
  await lastCommit(run, failure);
  logLeftovers(run);
  // Commit only settled offsets: after a fatal error too, since what settled is durable.
  await run.source.close();
  await run.sink.close();
  await run.labels.stop();
  await run.telemetry?.close();
  await run.endpoints?.close();
  return summarise(run, failure.error(), reason, drained);
}

/** Completes the input (stateful steps flush) and waits, up to the drain deadline, for everything to settle. */
async function drain<In>(run: RunParts<In>): Promise<boolean> {
  const { config, source } = run;
  run.input$.complete();
  const deadline = Date.now() + config.drainTimeoutMs;
  await Promise.race([run.outputsDone, sleep(config.drainTimeoutMs)]);
  const drained = await source.waitSettled(Math.max(0, deadline - Date.now()));
  await run.sink.flush(Math.max(1000, deadline - Date.now()));
  if (!drained) config.log(`drain deadline (${config.drainTimeoutMs} ms) passed with ${source.stats.unsettled} records unsettled; they will be re-read after restart`);
  return drained;
}

/** Exactly-once: the last transaction. Otherwise the last snapshot, matching the last commit: the next start resumes from both. */
async function lastCommit<In>(run: RunParts<In>, failure: RunFailure): Promise<void> {
  if (run.transactions !== null) {
    await run.transactions.finish(failure.fail);
    return;
  }
  if (!keepsState(run.states) || failure.error() !== null) return;
  run.source.commit(true);
  snapshotOrStop(run.states, run.source.committedPositions(), failure.fail);
  await run.sink.flush(run.config.drainTimeoutMs);
}

function logLeftovers<In>(run: RunParts<In>): void {
  const { source, config } = run;
  const abandoned = run.outputs.abandoned + run.sink.abandoned;
  if (abandoned > 0) config.log(`${abandoned} outputs of records from revoked or rewound partitions were left to be read again`);
  if (source.stats.skippedCompleted > 0) config.log(`${source.stats.skippedCompleted} records were skipped: the commit they were read from says they completed (their outputs were sent before the handover)`);
  if (source.stats.redelivered > 0) config.log(`the client delivered ${source.stats.redelivered} records again within their assignment; each was skipped (its first copy was processed)`);
}

function summarise<In>(run: RunParts<In>, fatalError: Error | null, reason: RunSummary['reason'], drained: boolean): RunSummary {
  const { source, topology } = run;
  return {
    topology: topology.name,
    reason: fatalError ? 'fatal' : reason,
    ...(fatalError ? { error: fatalError.message } : {}),
    consumed: source.stats.consumed,
    produced: run.sink.delivered,
    deadLettered: run.outputs.deadLettered,
    maxUnsettledSeen: source.stats.maxUnsettledSeen,
    redelivered: source.stats.redelivered,
    skippedCompleted: source.stats.skippedCompleted,
    drained,
    elapsedMs: Date.now() - run.startedAt,
    spend: run.meter.report(),
    ...processUsage(),
    ...(topology.report === undefined ? {} : { topologyReport: topology.report() }),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
