/**
 * Chain assembly: builds a topology's steps, in order, each with its {@link StepContext} (name,
 * dead-letter route, log, meter, state handle, annotations) and an optional wrapper around it (the
 * runner's telemetry). The runner, the topology test driver and the benchmarks all build chains
 * here, so a step sees the same context wherever it runs.
 */
import type { Observable, OperatorFunction } from 'rxjs';
import type { Envelope } from '../../core/envelope.js';
import type { OperatorStateHandle } from '../../core/state.js';
import type { UsageMeter } from '../../core/usage-meter.js';
import type { StepContext, Topology } from '../topology.js';

export interface ChainWiring {
  readonly meter: UsageMeter;
  /** Where a step sends a record it cannot process; settling it is this function's job. */
  deadLetter(step: string, envelope: Envelope<unknown>, error: unknown): void;
  /** A step's log line (default: dropped). */
  log?(step: string, message: string): void;
  /** The step's state handle, or undefined where nothing keeps state. */
  stateFor?(step: string): OperatorStateHandle | undefined;
  /** Telemetry notes on a record (StepContext.annotate). */
  annotate?: StepContext['annotate'];
  /** Wraps step `index`'s operator (telemetry counts and stage stamps; the operator never sees it). */
  wrap?(index: number, operator: OperatorFunction<unknown, unknown>): OperatorFunction<unknown, unknown>;
}

/** The context step `stepName` of `topologyName` is built with. */
export function stepContext(topologyName: string, stepName: string, wiring: ChainWiring): StepContext {
  const state = wiring.stateFor?.(stepName);
  const log = wiring.log;
  return {
    topologyName,
    stepName,
    deadLetter: (envelope, error) => wiring.deadLetter(stepName, envelope, error),
    log: log === undefined ? () => {} : (message) => log(stepName, message),
    meter: wiring.meter,
    ...(state === undefined ? {} : { state }),
    ...(wiring.annotate === undefined ? {} : { annotate: wiring.annotate }),
  };
}

/** `input` piped through every step of `topology`, each built once with its context. */
export function assembleChain<In>(topology: Topology<In>, input: Observable<Envelope<In>>, wiring: ChainWiring): Observable<unknown> {
  let stream = input as Observable<unknown>;
  for (const [index, step] of topology.chain.entries()) {
    const operator = step.build(stepContext(topology.name, step.name, wiring));
    stream = stream.pipe(wiring.wrap === undefined ? operator : wiring.wrap(index, operator));
  }
  return stream;
}
