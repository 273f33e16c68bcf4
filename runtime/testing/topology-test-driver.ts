/**
 * The topology test driver: runs a topology's steps on values with explicit event times, with no
 * broker, and reports what each output received, what was dead-lettered, and how every input
 * settled. In the spirit of Kafka Streams' TopologyTestDriver: a test of a topology is a few lines.
 *
 * ```ts
 * const driver = new TopologyTestDriver(latencyWatch);
 * driver.pipe(events.map((e) => ({ value: e, eventTimeMs: e.ts, key: e.model_id })));
 * const result = driver.complete();
 * expect(result.outputs.mentions).to.have.length(1);
 * ```
 *
 * Steps run on RxJS's default schedulers, so steps that wait (timers, async lookups) need
 * `await driver.completeAsync()` instead of `complete()`.
 */
import { Subject } from 'rxjs';
import { testEnvelope, type Envelope } from '../../core/envelope.js';
import type { SettlementOutcome } from '../../core/settlement.js';
import type { RoutedEnvelope, Topology } from '../topology.js';
import { OperatorStateHandle } from '../../core/state.js';
import { assembleChain } from '../runner/chain.js';
import { SETTINGS } from '../config.js';
import { SpendMeter } from '../cost/spend-meter.js';

export interface TestRecord<T> {
  readonly value: T;
  readonly eventTimeMs: number;
  readonly key?: string | null;
  /** Partition of the input record; default 0. */
  readonly partition?: number;
}

export interface DriverDeadLetter {
  readonly step: string;
  readonly error: unknown;
  readonly value: unknown;
  readonly offset: number;
}

export interface DriverResult {
  /** Values routed to each output role, in emission order. */
  readonly outputs: Readonly<Record<string, unknown[]>>;
  readonly deadLetters: readonly DriverDeadLetter[];
  /** How each input settled, by input offset (absent: not settled). */
  readonly settlements: ReadonlyMap<number, SettlementOutcome>;
  /** Inputs piped so far. */
  readonly inputs: number;
}

export class TopologyTestDriver<In> {
  /** What the steps counted as billable work (enrichment and detector calls; piped inputs count as ingested events), at the default prices. */
  readonly meter = new SpendMeter({ perEvent: SETTINGS.pricePerEventUsd.default, perEnrichmentCall: SETTINGS.pricePerEnrichmentCallUsd.default, perDetectorCall: SETTINGS.pricePerDetectorCallUsd.default });
  readonly #input = new Subject<Envelope<In>>();
  readonly #outputs: Record<string, unknown[]> = {};
  readonly #deadLetters: DriverDeadLetter[] = [];
  readonly #settlements = new Map<number, SettlementOutcome>();
  readonly #done: Promise<void>;
  #offset = 0;
  #error: unknown = null;
  #completed = false;
  #watermarkMs = -Infinity;
  readonly #read = new Map<string, number>();
  readonly #states = new Map<string, OperatorStateHandle>();

  /** `allowedLatenessMs`: the watermark trails the highest event time piped by this much. */
  constructor(
    readonly topology: Topology<In>,
    private readonly allowedLatenessMs = 0,
  ) {
    for (const role of Object.keys(topology.outputs)) this.#outputs[role] = [];
    // Built as the runner builds it (runtime/runner/chain.ts): the same context, a state handle per step.
    const stream = assembleChain(topology, this.#input.asObservable(), {
      meter: this.meter,
      deadLetter: (step, envelope, error) => {
        this.#deadLetters.push({ step, error, value: envelope.value, offset: envelope.origin.offset });
        envelope.settlement.settle('dead-lettered');
      },
      stateFor: (step) => this.stateOf(step),
    });
    this.#done = new Promise<void>((resolve) => {
      stream.subscribe({
        next: (item) => {
          const routed = item as RoutedEnvelope;
          const sink = this.#outputs[routed.output];
          if (sink === undefined) throw new Error(`a step routed a record to "${routed.output}", which is not a declared output`);
          sink.push(routed.value);
          // The broker would acknowledge it: settle as delivered.
          routed.settlement.settle('delivered');
        },
        error: (error: unknown) => {
          this.#error = error;
          resolve();
        },
        complete: () => resolve(),
      });
    });
  }

  /** Feeds records in order; each gets the next offset and the watermark so far. */
  pipe(records: Iterable<TestRecord<In>>): this {
    if (this.#completed) throw new Error('pipe() after complete(): create a new driver');
    for (const record of records) {
      const offset = this.#offset++;
      this.#watermarkMs = Math.max(this.#watermarkMs, record.eventTimeMs - this.allowedLatenessMs);
      this.meter.add('ingested-event', 1);
      this.#input.next(
        testEnvelope(record.value, {
          key: record.key ?? null,
          eventTimeMs: record.eventTimeMs,
          watermarkMs: this.#watermarkMs,
          offset,
          partition: record.partition ?? 0,
          topic: this.topology.input.topic,
          onSettled: (outcome) => {
            if (this.#settlements.has(offset)) throw new Error(`input ${offset} settled twice`);
            this.#settlements.set(offset, outcome);
          },
        }),
      );
    }
    return this;
  }

  /** Feeds one record: `driver.pipeInput('model-1', event, event.ts)`. */
  pipeInput(key: string | null, value: In, eventTimeMs: number, partition = 0): this {
    return this.pipe([{ key, value, eventTimeMs, partition }]);
  }

  /**
   * Raises the watermark that later records carry (it never goes back). Watermarks ride on records
   * here as in the runtime, so windows up to it close when the next record arrives or on complete.
   */
  advanceWatermark(watermarkMs: number): this {
    this.#watermarkMs = Math.max(this.#watermarkMs, watermarkMs);
    return this;
  }

  /**
   * Step `step`'s state handle, as the runner gives one to every step: `snapshot()` it to see what the
   * step would write to its changelog, or `restore()` a snapshot before the first `pipe`.
   */
  stateOf(step: string): OperatorStateHandle {
    let handle = this.#states.get(step);
    if (handle === undefined) {
      if (!this.topology.chain.some((s) => s.name === step)) throw new Error(`no step "${step}" in topology ${this.topology.name}; steps: ${this.topology.chain.map((s) => s.name).join(', ')}`);
      handle = new OperatorStateHandle();
      this.#states.set(step, handle);
    }
    return handle;
  }

  /** Values routed to `role` since the last read of that role. */
  readOutput(role: string): unknown[] {
    const values = this.#outputs[role];
    if (values === undefined) throw new Error(`no output "${role}" in topology ${this.topology.name}; outputs: ${Object.keys(this.#outputs).join(', ')}`);
    const unread = values.slice(this.#read.get(role) ?? 0);
    this.#read.set(role, values.length);
    return unread;
  }

  /** What has come out so far (steps may still hold records). */
  snapshot(): DriverResult {
    if (this.#error !== null) throw this.#error;
    return { outputs: this.#outputs, deadLetters: this.#deadLetters, settlements: this.#settlements, inputs: this.#offset };
  }

  /** Completes the input (stateful steps flush) and returns the result; for synchronous steps. */
  complete(): DriverResult {
    this.#completed = true;
    this.#input.complete();
    return this.snapshot();
  }

  /** Completes the input and waits for asynchronous steps to finish. */
  async completeAsync(): Promise<DriverResult> {
    this.#completed = true;
    this.#input.complete();
    await this.#done;
    return this.snapshot();
  }
}
