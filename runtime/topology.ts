/**
 * The topology DSL: a topology is a TypeScript module whose default export is `defineTopology({...})`
 * — its name, its input (topic + contract), its named steps, its outputs (topics + contracts) and its
 * dead-letter topic. Steps are RxJS operators over {@link Envelope}s; every step has a stable name,
 * checked unique, because names become metric labels, span names, state keys and dead-letter fields.
 *
 * ```ts
 * export default defineTopology({
 *   name: 'latency-watch',
 *   input: { topic: 'inference-events', contract: InferenceEventContract, eventTime: (e) => e.ts },
 *   outputs: { mentions: { topic: 'mentions', contract: MentionContract } },
 *   steps: (input) => input
 *     .step('slow-only', filterRecords((e) => e.latency_ms > 1000))
 *     .step('to-mention', mapRecords(toMention))
 *     .step('route', toOutput('mentions')),
 * });
 * ```
 */
import { filter, map, mergeMap, type OperatorFunction } from 'rxjs';
import type { Contract } from '../schemas/index.js';
import type { UsageMeter } from '../core/usage-meter.js';
import { dropRecord, withValue, type Envelope } from '../core/envelope.js';
import type { OperatorStateHandle } from '../core/state.js';
import type { KpiSources } from './telemetry/kpis.js';

/** An envelope the last step has routed to one of the topology's declared outputs. */
export type RoutedEnvelope<T = unknown> = Envelope<T> & { readonly output: string };

/** What a step is given when the runner (or the test driver) builds it. */
export interface StepContext {
  readonly topologyName: string;
  readonly stepName: string;
  /**
   * Sends a record that this step cannot process to the dead-letter topic (with this step's name, the
   * error and the record's origin) and settles it once the dead letter is acknowledged. The record
   * must not also be passed on.
   */
  deadLetter(envelope: Envelope<unknown>, error: unknown): void;
  log(message: string): void;
  /** The run's spend meter: steps pass it to operators that do billable work (enrichment and detector calls). */
  readonly meter: UsageMeter;
  /**
   * This step's state handle: pass it as the operator's `state` option and the runner keeps the
   * step's state in `<topology>.<step>.changelog`, restoring it on start and when partitions move
   * (see the README, "State, rebalancing and exactly-once"). Absent where nothing keeps state.
   */
  readonly state?: OperatorStateHandle;
  /**
   * Notes on a record for telemetry (`{ lane: 2, cache: 'miss', enrich_retries: 1 }`): a captured
   * record's spans carry them as `signalpath.<name>` attributes and `signalpath hotspots` groups the
   * tail by them. A no-op with telemetry off, and absent where no runner runs the step (tests).
   */
  annotate?(envelope: Envelope<unknown>, notes: Readonly<Record<string, string | number | boolean>>): void;
}

/** A step: an operator, or a factory that builds one from its {@link StepContext}. */
export type StepOperator<I, O> = OperatorFunction<I, O> | ((context: StepContext) => OperatorFunction<I, O>);

export interface NamedStep {
  readonly name: string;
  readonly build: (context: StepContext) => OperatorFunction<unknown, unknown>;
}

const STEP_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** An ordered chain of named steps; `E` is the element type after the last one. */
export class StepChain<E> {
  private constructor(readonly steps: readonly NamedStep[]) {}

  static start<T>(): StepChain<Envelope<T>> {
    return new StepChain<Envelope<T>>([]);
  }

  /** Appends a step. Names are lower-case kebab (`[a-z][a-z0-9-]*`) and unique in the topology. */
  step<F>(name: string, operator: StepOperator<E, F>): StepChain<F> {
    if (!STEP_NAME.test(name)) {
      throw new TypeError(`step name ${JSON.stringify(name)}: use lower-case kebab case, e.g. "enrich-model" (letters, digits, '-'; at most 63)`);
    }
    if (this.steps.some((s) => s.name === name) || name === 'decode') {
      throw new TypeError(`step name "${name}" is used twice in this topology (or is the reserved "decode"); step names must be unique`);
    }
    const build = (context: StepContext): OperatorFunction<unknown, unknown> => operatorOf(operator, context) as OperatorFunction<unknown, unknown>;
    return new StepChain<F>([...this.steps, { name, build }]);
  }
}

/** The operator of a step, built with `context` if it is a factory: composes steps inside one step. */
export function operatorOf<I, O>(operator: StepOperator<I, O>, context: StepContext): OperatorFunction<I, O> {
  return isFactory(operator) ? operator(context) : operator;
}

function isFactory<I, O>(operator: StepOperator<I, O>): operator is (context: StepContext) => OperatorFunction<I, O> {
  // An OperatorFunction takes an Observable; a factory takes a context. Factories are marked.
  return (operator as { [stepFactory]?: true })[stepFactory] === true;
}

const stepFactory = Symbol('signalpath.stepFactory');

/** Marks a function as a step factory (it receives the {@link StepContext}, not an Observable). */
export function withContext<I, O>(factory: (context: StepContext) => OperatorFunction<I, O>): StepOperator<I, O> {
  return Object.assign(factory, { [stepFactory]: true as const });
}

export interface InputSpec<T> {
  readonly topic: string;
  readonly contract: Contract<T>;
  /** Event time of a value in epoch ms. Default: the Kafka record timestamp. */
  readonly eventTime?: (value: T) => number;
  /** Partitions to create the topic with when it is missing. Default 4. */
  readonly partitions?: number;
}

export interface OutputSpec<T> {
  readonly topic: string;
  readonly contract: Contract<T>;
  /** Record key. Default: the contract's key field, else the input record's key. */
  readonly key?: (value: T) => string | null;
  readonly partitions?: number;
}

export interface TopologyDefinition<In> {
  /** Topic-safe identifier: it names the consumer group, the dead-letter topic and metrics. */
  readonly name: string;
  readonly description: string;
  readonly input: InputSpec<In>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- outputs hold different value types
  readonly outputs: Readonly<Record<string, OutputSpec<any>>>;
  /** Default `<name>.dlq`. */
  readonly deadLetterTopic?: string;
  /**
   * What the topology reports about a run, read once when the run ends and written into the run
   * summary (e.g. per-lane load, the sampler's allocations). Plain JSON. Optional.
   */
  readonly report?: () => Readonly<Record<string, unknown>>;
  /** The step chain, from input envelopes to routed envelopes. */
  readonly steps: (input: StepChain<Envelope<In>>) => StepChain<RoutedEnvelope>;
  /**
   * Gauges the runner exports with its own metrics, read at scrape time — how a topology shows
   * operator state (an enrich step's circuit breaker, from its counters) without operators importing
   * a metrics library. The runner adds the `topology` label. A count that only grows is exported as
   * a counter (`type: 'counter'`, e.g. windowedDedup's, see runtime/telemetry/dedup-metrics.ts).
   */
  readonly gauges?: readonly TopologyGauge[];
  /**
   * Where the runtime reads this topology's KPIs (mention outputs, labels, spend, cache, lanes,
   * bandit budget): see runtime/telemetry/kpis.ts. Default: none.
   */
  readonly kpis?: KpiSources;
}

/** A gauge (or counter) a topology exports (see {@link TopologyDefinition.gauges}). */
export interface TopologyGauge {
  /** Prometheus name, `signalpath_…` by convention; a counter's ends in `_total`. */
  readonly name: string;
  readonly help: string;
  /** 'gauge' (default), or 'counter' for a count that only grows (Prometheus `rate()` reads it). */
  readonly type?: 'gauge' | 'counter';
  readonly read: () => readonly { readonly labels: Readonly<Record<string, string>>; readonly value: number }[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

export interface Topology<In = unknown> extends TopologyDefinition<In> {
  readonly deadLetterTopic: string;
  readonly chain: readonly NamedStep[];
}

/** A topology name: topic-safe (it names the consumer group and topics), lower-case kebab. */
export const TOPOLOGY_NAME = /^[a-z][a-z0-9-]{0,62}$/;
const RESERVED_ROLES = new Set(['input', 'dlq']);

/** Checks a topology definition and builds its step chain once, so mistakes fail at start. */
export function defineTopology<In>(definition: TopologyDefinition<In>): Topology<In> {
  if (!TOPOLOGY_NAME.test(definition.name)) {
    throw new TypeError(`topology name ${JSON.stringify(definition.name)}: use lower-case kebab case (letters, digits, '-'), e.g. "model-monitor"`);
  }
  const roles = Object.keys(definition.outputs);
  if (roles.length === 0) throw new TypeError(`topology ${definition.name}: declare at least one output`);
  for (const role of roles) {
    if (RESERVED_ROLES.has(role)) throw new TypeError(`topology ${definition.name}: output role "${role}" is reserved (input, dlq)`);
  }
  for (const gauge of definition.gauges ?? []) {
    if (!METRIC_NAME.test(gauge.name)) throw new TypeError(`topology ${definition.name}: gauge name ${JSON.stringify(gauge.name)} is not a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)`);
    if (gauge.type === 'counter' && !gauge.name.endsWith('_total')) throw new TypeError(`topology ${definition.name}: counter ${JSON.stringify(gauge.name)} must end in _total (Prometheus naming)`);
  }
  const chain = definition.steps(StepChain.start<In>()).steps;
  if (chain.length === 0) throw new TypeError(`topology ${definition.name}: declare at least one step`);
  return { ...definition, deadLetterTopic: definition.deadLetterTopic ?? `${definition.name}.dlq`, chain };
}

/** The last step of most topologies: send every record to the output `role`. */
export function toOutput<T>(role: string): OperatorFunction<Envelope<T>, RoutedEnvelope<T>> {
  return map((envelope) => ({ ...envelope, output: role }));
}

/**
 * A per-record transformation as a step. A throw dead-letters that record (with the step's name) and
 * the stream goes on — a bad record is a value, not a stream error.
 */
export function mapRecords<T, U>(project: (value: T, envelope: Envelope<T>) => U): StepOperator<Envelope<T>, Envelope<U>> {
  return withContext((context) =>
    mergeMap((envelope: Envelope<T>) => {
      try {
        return [withValue(envelope, project(envelope.value, envelope))];
      } catch (error) {
        context.deadLetter(envelope, error);
        return [];
      }
    }),
  );
}

/** Keeps the records `predicate` accepts; the others settle as dropped. A throw dead-letters. */
export function filterRecords<T>(predicate: (value: T, envelope: Envelope<T>) => boolean): StepOperator<Envelope<T>, Envelope<T>> {
  return withContext((context) =>
    filter((envelope: Envelope<T>) => {
      let keep: boolean;
      try {
        keep = predicate(envelope.value, envelope);
      } catch (error) {
        context.deadLetter(envelope, error);
        return false;
      }
      if (!keep) dropRecord(envelope);
      return keep;
    }),
  );
}
