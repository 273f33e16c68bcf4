/**
 * Operator state of a run: the step states kept in changelog topics (restored when partitions are
 * assigned, snapshotted at commits), their topics created once the steps that keep state are known,
 * and the at-least-once snapshot timer (exactly-once snapshots ride on the transactions instead).
 */
import { ensureTopics } from '../kafka/admin.js';
import type { KafkaSink } from '../kafka/sink.js';
import { StepStates } from '../state/step-states.js';
import { SETTINGS, type RunConfig } from '../config.js';
import type { Topology } from '../topology.js';

/** The run's step states, or null with `state: 'off'`; changelog writes go through the topology's producer. */
export function createStepStates(topology: Topology<unknown>, config: RunConfig, sink: KafkaSink): StepStates | null {
  if (config.state === 'off') return null;
  return new StepStates({
    // The group by default: two groups running one topology on one broker keep their own state.
    namespace: stateNamespaceOf(config),
    // Before, the namespace was the topology name: a run that names no namespace reads it for one
    // release (a run with --state-namespace had that namespace before too: nothing to migrate).
    ...(config.stateNamespace === undefined ? { legacyNamespace: topology.name } : {}),
    group: config.group,
    ...(config.instanceId === undefined ? {} : { instance: config.instanceId }),
    brokers: config.brokers,
    clientConfig: config.clientConfig,
    log: config.log,
    // Through the topology's producer: ordered with its outputs, and inside its transactions.
    write: (topic, key, value) => sink.sendState(topic, key, value),
  });
}

/** A group may hold characters a topic name may not: those become '_'. */
export function stateNamespaceOf(config: RunConfig): string {
  return config.stateNamespace ?? config.group.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** True when some step keeps state (known once the chain is subscribed). */
export function keepsState(states: StepStates | null): states is StepStates {
  return states !== null && states.statefulSteps().length > 0;
}

/** Steps attach to their state handles when subscribed: then their changelog topics are created. */
export async function prepareChangelogs(states: StepStates | null, config: RunConfig): Promise<void> {
  if (!keepsState(states)) return;
  await ensureTopics(config.brokers, states.topicSpecs(), undefined, config.clientConfig);
  const namespaceFrom = config.stateNamespace === undefined ? 'the consumer group' : '--state-namespace';
  config.log(
    `operator state of ${states.statefulSteps().join(', ')} kept in ${states.topicSpecs().map((t) => t.topic).join(', ')} ` +
      `(namespace ${stateNamespaceOf(config)}, from ${namespaceFrom}; chunks of up to ${states.chunkPayloadBytes} bytes for message.max.bytes ${states.messageMaxBytes})`,
  );
}

export function snapshotIntervalMsOf(config: RunConfig): number {
  return config.stateSnapshotIntervalMs ?? (SETTINGS.stateSnapshotIntervalMs.default as number);
}

/** Writes a snapshot matching `committed`; one that cannot be written stops the run, with the error that says what to change. */
export function snapshotOrStop(states: StepStates, committed: ReadonlyMap<number, number>, fail: (error: Error) => void): void {
  try {
    states.snapshot(committed);
  } catch (error) {
    fail(error as Error);
  }
}

/**
 * At-least-once: every snapshot interval, a commit and the snapshot that matches it (so each holds
 * the offsets it matches). Undefined when nothing keeps state, or with exactly-once.
 */
export function startSnapshotTimer(
  states: StepStates | null,
  config: RunConfig,
  source: { commit(sync: boolean): void; committedPositions(): Map<number, number> },
  active: () => boolean,
  fail: (error: Error) => void,
): NodeJS.Timeout | undefined {
  if (!keepsState(states) || config.exactlyOnce === true) return undefined;
  const timer = setInterval(() => {
    if (!active()) return;
    source.commit(false);
    snapshotOrStop(states, source.committedPositions(), fail);
  }, snapshotIntervalMsOf(config));
  timer.unref();
  return timer;
}
