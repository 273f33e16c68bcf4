/**
 * watermarkHold — keeps watermarks honest across steps that reorder records.
 *
 * The source stamps each record with a watermark that no later record undercuts. Steps that reorder
 * (an async lookup that holds one key's records while others pass, lanes side by side) break that:
 * a record can reach an event-time window after a watermark that already closed it. Put `enter()`
 * before the reordering steps and `leave()` after them: each record leaves with
 * min(its watermark, oldest event time still between the two points − 1), so windows downstream close
 * only once nothing older is on its way.
 *
 * ```
 * enter:   --a(t=1,w=0)--b(t=70,w=65)--------------
 *            … reordering steps: b overtakes a …
 * leave:   ---------------b(w=0)-----------a(w=0)--   b leaves while a (t=1) is inside: w ≤ 0
 * ```
 *
 * State: one count per event time of the records between the two points (at most `maxHeldRecords`;
 * the runtime's bound on unsettled records is usually lower) and a lazy min-heap over them; shared by
 * the pair, not per subscription.
 * Delivery: passes every record on unchanged but for its watermark, in arrival order, and never
 * settles one; a record settled between the points (dead-lettered, dropped) stops holding the
 * watermark at once. More than `maxHeldRecords` inside errors the stream (a `RangeError`).
 *
 * @example
 * ```ts
 * const hold = watermarkHold();
 * input.step('hold-watermark', hold.enter()).step('enrich', enrich(options)).step('release-watermark', hold.leave());
 * ```
 */
import { map, type OperatorFunction } from 'rxjs';
import type { Envelope } from '../core/envelope.js';
import { checkInteger } from './options.js';
import { EventTimeHold } from './watermark-hold/event-time-hold.js';

export { EventTimeHold } from './watermark-hold/event-time-hold.js';

export interface WatermarkHoldOptions {
  /** Most records between the two points at once; one more errors the stream. Default 10 000 000 (the runtime's largest `--max-unsettled`). */
  readonly maxHeldRecords?: number;
}

/** The two ends of one hold: records enter before the reordering steps and leave after them. */
export interface WatermarkHold {
  /** Notes each record's event time; the record passes on unchanged but for its settlement (wrapped). */
  enter<T>(): OperatorFunction<Envelope<T>, Envelope<T>>;
  /** Stamps each record with a watermark below every record still inside; restores its settlement. */
  leave<T>(): OperatorFunction<Envelope<T>, Envelope<T>>;
  /** Records between the two points now. */
  readonly size: number;
}

/** A hold between two points of a chain (see the file's comment). */
export function watermarkHold(options: WatermarkHoldOptions = {}): WatermarkHold {
  const maxHeldRecords = checkInteger('watermarkHold', 'maxHeldRecords', options.maxHeldRecords ?? 10_000_000, 1, Number.MAX_SAFE_INTEGER);
  const hold = new EventTimeHold();
  return {
    enter: <T>() =>
      map((envelope: Envelope<T>) => {
        if (hold.size >= maxHeldRecords) throw new RangeError(`watermarkHold: more than maxHeldRecords (${maxHeldRecords}) records between enter() and leave()`);
        return hold.enter(envelope);
      }),
    leave: <T>() => map((envelope: Envelope<T>) => hold.leave(envelope)),
    get size() {
      return hold.size;
    },
  };
}
