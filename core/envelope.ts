/**
 * The record envelope: what every step of a topology receives and emits.
 *
 * An envelope carries a decoded value together with where it came from (for dead letters and
 * tracing), its event time, the topology's watermark when it entered, and the {@link Settlement}
 * handle that tells the runtime when its offset may be committed. Operators change `value` freely
 * (use {@link withValue}); they must never lose the settlement: a record that leaves the stream is
 * settled (`dropRecord`), a record that becomes several shares it (`fanOut`), records that become one
 * merge it (`mergeInto`).
 */
import { createSettlement, mergeSettlements, type Settlement, type SettlementOutcome } from './settlement.js';

/** Where an input record came from, with its original bytes (dead letters carry them untouched). */
export interface RecordOrigin {
  readonly topic: string;
  readonly partition: number;
  /** Kafka offset. A JS number: exact up to 2^53, far beyond any real partition. */
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}

/** Kafka record headers, decoded to a plain object; values stay Buffers (they may be binary). */
export type RecordHeaders = Readonly<Record<string, Buffer>>;

export interface Envelope<T> {
  /** Partitioning key as a string (UTF-8 of the Kafka key), or null. */
  readonly key: string | null;
  readonly value: T;
  /** Event time in epoch milliseconds: from the value (as the topology declares) or the record timestamp. */
  readonly eventTimeMs: number;
  /**
   * The topology's event-time watermark (epoch ms) when this record entered: every later record with
   * an event time at or below it is late. Stamped by the source; operators that hold state by event
   * time advance with it.
   */
  readonly watermarkMs: number;
  readonly headers: RecordHeaders;
  /** The (first) input record this envelope descends from. */
  readonly origin: RecordOrigin;
  readonly settlement: Settlement;
}

/** The same record with a new value (a map). */
export function withValue<T, U>(envelope: Envelope<T>, value: U): Envelope<U> {
  return { ...envelope, value };
}

/** Settles a record that an operator deliberately removes from the stream (sampled out, deduplicated). */
export function dropRecord(envelope: Envelope<unknown>): void {
  envelope.settlement.settle('dropped');
}

/** One record becomes several: each child carries a part of the parent's settlement. */
export function fanOut<T, U>(envelope: Envelope<T>, values: readonly U[]): Envelope<U>[] {
  if (values.length === 0) {
    dropRecord(envelope);
    return [];
  }
  const parts = envelope.settlement.split(values.length);
  return values.map((value, i) => ({ ...envelope, value, settlement: parts[i]! }));
}

/**
 * Several records become one: the result settles all of them when it settles. Its key, origin and
 * headers are the first member's; its event time is the latest member's.
 */
export function mergeInto<U>(members: readonly Envelope<unknown>[], value: U): Envelope<U> {
  const first = members[0];
  if (first === undefined) throw new RangeError('mergeInto needs at least one member');
  let eventTimeMs = first.eventTimeMs;
  let watermarkMs = first.watermarkMs;
  for (const member of members) {
    if (member.eventTimeMs > eventTimeMs) eventTimeMs = member.eventTimeMs;
    if (member.watermarkMs > watermarkMs) watermarkMs = member.watermarkMs;
  }
  return {
    ...first,
    value,
    eventTimeMs,
    watermarkMs,
    settlement: mergeSettlements(members.map((member) => member.settlement)),
  };
}

/** Options for {@link testEnvelope}; everything but the value has a harmless default. */
export interface TestEnvelopeOptions {
  readonly key?: string | null;
  readonly eventTimeMs?: number;
  readonly watermarkMs?: number;
  readonly partition?: number;
  readonly offset?: number;
  readonly topic?: string;
  readonly headers?: RecordHeaders;
  /** Called when the record settles; tests use it to check that nothing is lost or settled twice. */
  readonly onSettled?: (outcome: SettlementOutcome) => void;
}

/** An envelope for tests and for the topology test driver: no broker, explicit event time. */
export function testEnvelope<T>(value: T, options: TestEnvelopeOptions = {}): Envelope<T> {
  const topic = options.topic ?? 'test-input';
  const partition = options.partition ?? 0;
  const offset = options.offset ?? 0;
  const eventTimeMs = options.eventTimeMs ?? 0;
  return {
    key: options.key ?? null,
    value,
    eventTimeMs,
    watermarkMs: options.watermarkMs ?? eventTimeMs,
    headers: options.headers ?? {},
    origin: { topic, partition, offset, key: null, value: null },
    settlement: createSettlement(options.onSettled ?? (() => {}), `${topic}[${partition}]@${offset}`),
  };
}
