/**
 * The one telemetry wrapper the runner applies around every named step: received, emitted, dropped
 * and failed counts and a latency histogram per step. Operators never see it.
 *
 * How each is counted, without a promise or an allocation per record:
 * - received / emitted: a `map` after each step counts what it passes on; emitted of step i is
 *   received of step i+1; the first step's received is counted where the runner hands records to the
 *   chain ({@link StepMetrics.countEntered}), which saves an operator hop per record.
 * - latency: the `map` after step i reads the stage clock's turn clock (see TurnClock: one real clock
 *   read per synchronous run) and subtracts the time the record entered step i (the previous stamp in
 *   its {@link StageClock} slot): the time the record spent in that step across turns, waiting
 *   included; a synchronous step reads as ~0. A fanned-out record's children share one slot.
 * - dropped: counted when a record settles as 'dropped', against the step it was in when it settled
 *   (its slot's stage). A drop whose slot was reused is counted as `step="unattributed"`.
 * - failed: the runner counts every dead letter by the step that sent it (`decode` and
 *   `encode-<output>` included); exact.
 * received − emitted − dropped − failed is what a step holds (windows, batches), merges or, for
 * fan-out steps, negative: emitted counts output records, the others count input records.
 */
import { map, type OperatorFunction } from 'rxjs';
import type { Registry } from 'prom-client';
import type { Envelope } from '../../core/envelope.js';
import type { SettlementOutcome } from '../../core/settlement.js';
import { BucketHistogram, histogramSeries, type PromValue } from './bucket-histogram.js';
import { registerCollected } from './prom-collector.js';
import type { StageClock, TracedOrigin } from './stage-clock.js';

export class StepMetrics {
  readonly received: Float64Array;
  readonly emitted: Float64Array;
  readonly dropped: Float64Array;
  readonly latency: BucketHistogram[];
  readonly failed = new Map<string, number>();
  readonly settled: Record<SettlementOutcome, number> = { delivered: 0, dropped: 0, 'dead-lettered': 0 };
  droppedUnattributed = 0;

  constructor(
    readonly topology: string,
    readonly stepNames: readonly string[],
    private readonly clock: StageClock,
  ) {
    const n = stepNames.length;
    this.received = new Float64Array(n);
    this.emitted = new Float64Array(n);
    this.dropped = new Float64Array(n);
    this.latency = stepNames.map(() => new BucketHistogram());
  }

  /** A record is handed to the first step (the runner calls this where it feeds the chain). */
  countEntered(): void {
    this.received[0]!++;
  }

  /** Wraps step `index` (its operator as the topology built it) with the counting map. */
  wrap(index: number, operator: OperatorFunction<unknown, unknown>): OperatorFunction<unknown, unknown> {
    const last = index === this.stepNames.length - 1;
    const received = this.received;
    const emitted = this.emitted;
    const clock = this.clock;
    const histogram = this.latency[index]!;
    const width = clock.width;
    const times = clock.times;
    const stage = clock.stage;
    const turn = clock.turn;
    const leave = map((item: unknown) => {
      emitted[index]!++;
      if (!last) received[index + 1]!++;
      const slot = clock.slotOf(((item as Envelope<unknown>).origin as TracedOrigin).telemetrySeq);
      if (slot >= 0) {
        const now = turn.now();
        const base = slot * width;
        histogram.observe(now - times[base + index]!);
        times[base + index + 1] = now;
        stage[slot] = index + 1;
      }
      return item;
    });
    return (source) => leave(operator(source));
  }

  /** A dead letter sent by `step` (a step name, `decode`, or `encode-<output>`). */
  countFailed(step: string): void {
    this.failed.set(step, (this.failed.get(step) ?? 0) + 1);
  }

  /** An input record settled; `slot` is its stage-clock slot or -1. */
  countSettled(slot: number, outcome: SettlementOutcome): void {
    this.settled[outcome]++;
    if (outcome !== 'dropped') return;
    const step = slot >= 0 ? this.clock.stage[slot]! : -1;
    if (step >= 0 && step < this.stepNames.length) this.dropped[step]!++;
    else this.droppedUnattributed++;
  }

  register(registry: Registry): void {
    const topology = this.topology;
    const perStep = (counts: Float64Array): PromValue[] => this.stepNames.map((step, i) => ({ labels: { topology, step }, value: counts[i]! }));
    registerCollected(registry, { name: 'signalpath_step_received_total', help: 'Records that entered the step.', type: 'counter', collect: () => perStep(this.received) });
    registerCollected(registry, { name: 'signalpath_step_emitted_total', help: 'Records the step passed on.', type: 'counter', collect: () => perStep(this.emitted) });
    registerCollected(registry, {
      name: 'signalpath_step_dropped_total',
      help: 'Input records that settled as dropped while in the step (sampled out, filtered, deduplicated).',
      type: 'counter',
      collect: () => [...perStep(this.dropped), ...(this.droppedUnattributed > 0 ? [{ labels: { topology, step: 'unattributed' }, value: this.droppedUnattributed }] : [])],
    });
    registerCollected(registry, {
      name: 'signalpath_step_failed_total',
      help: 'Records the step sent to the dead-letter topic (decode and encode-<output> included).',
      type: 'counter',
      collect: () => {
        const values: PromValue[] = this.stepNames.map((step) => ({ labels: { topology, step }, value: this.failed.get(step) ?? 0 }));
        for (const [step, value] of this.failed) if (!this.stepNames.includes(step)) values.push({ labels: { topology, step }, value });
        return values;
      },
    });
    registerCollected(registry, {
      name: 'signalpath_step_latency_seconds',
      help: 'Time a record spent in the step, from entering it to leaving it (held time included).',
      type: 'histogram',
      collect: () => this.stepNames.flatMap((step, i) => histogramSeries('signalpath_step_latency_seconds', { topology, step }, this.latency[i]!)),
    });
    registerCollected(registry, {
      name: 'signalpath_records_settled_total',
      help: 'Input records settled, by outcome.',
      type: 'counter',
      collect: () => (Object.keys(this.settled) as SettlementOutcome[]).map((outcome) => ({ labels: { topology, outcome }, value: this.settled[outcome] })),
    });
  }
}
