/**
 * Cheap per-record stage timestamps: a ring of `performance.now()` values indexed by a record's
 * telemetry sequence number, so measuring a record allocates nothing. Slot layout per record:
 * [consumed, left step 0, left step 1, …]; `stage[slot]` is the step the record is in (= steps once
 * it has left the last one). A record held longer than the ring has slots (a long window) loses its
 * slot to a newer record: {@link StageClock.slotOf} then returns -1 and the record goes unmeasured.
 */
import type { RecordOrigin } from '../../core/envelope.js';

/** The origin the source stamps when telemetry is on: its sequence number and trace context. */
export interface TracedOrigin extends RecordOrigin {
  /** Telemetry sequence number (-1 when telemetry is off). */
  readonly telemetrySeq: number;
  /** The input record's `traceparent` header when well formed, else null. */
  readonly traceparent: Buffer | null;
}

const SEQ_MASK = 0x3fffffff;

/**
 * A clock read once per turn of JavaScript rather than once per record: `performance.now()` costs
 * ≈ 50 ns, several times a record's share of a step. The first read in a synchronous run takes the
 * time and queues a microtask that forgets it; later reads in the same run reuse it, re-reading
 * every `maxReuse` reads so a long run (a 1000-record batch) still moves. So time spent in the
 * synchronous part of a step reads as ~0; what the tail is made of — records held by a step across
 * turns, waiting for the sink's flush, paused partitions — is measured exactly.
 */
export class TurnClock {
  #cachedMs = 0;
  #reusesLeft = 0;
  #valid = false;
  readonly #forget = (): void => {
    this.#valid = false;
  };

  constructor(private readonly maxReuse = 64) {}

  now(): number {
    if (this.#valid) {
      if (--this.#reusesLeft > 0) return this.#cachedMs;
    } else {
      this.#valid = true;
      queueMicrotask(this.#forget);
    }
    this.#reusesLeft = this.maxReuse;
    return (this.#cachedMs = performance.now());
  }
}

/** What steps note about a record for its tail-capture spans (lane, cache hit or miss, retries). */
export type RecordNotes = Readonly<Record<string, string | number | boolean>>;

export class StageClock {
  /** Timestamps per slot: index 0 = consumed, index i+1 = left step i. */
  readonly width: number;
  readonly times: Float64Array;
  readonly stage: Int32Array;
  /** Notes per slot (see {@link RecordNotes}); undefined for most records. */
  readonly notes: (Record<string, string | number | boolean> | undefined)[];
  readonly #owners: Int32Array;
  /** The clock every stamp is read from. */
  readonly turn = new TurnClock();
  readonly #slots: number;
  #next = 0;

  constructor(readonly steps: number, capacity: number) {
    let slots = 1024;
    while (slots < capacity && slots < 1 << 17) slots <<= 1;
    this.#slots = slots;
    this.width = steps + 1;
    this.times = new Float64Array(slots * this.width);
    this.stage = new Int32Array(slots);
    this.notes = new Array<undefined>(slots).fill(undefined);
    this.#owners = new Int32Array(slots).fill(-1);
  }

  /** Claims a slot for a new record; returns its sequence number. */
  claim(consumedAtMs: number): number {
    const seq = this.#next;
    this.#next = (seq + 1) & SEQ_MASK;
    const slot = seq & (this.#slots - 1);
    this.#owners[slot] = seq;
    this.times[slot * this.width] = consumedAtMs;
    this.stage[slot] = 0;
    if (this.notes[slot] !== undefined) this.notes[slot] = undefined;
    return seq;
  }

  /** The slot of `seq`, or -1 when it was never claimed or has been reused. */
  slotOf(seq: number | undefined): number {
    if (seq === undefined || seq < 0) return -1;
    const slot = seq & (this.#slots - 1);
    return this.#owners[slot] === seq ? slot : -1;
  }
}
