/**
 * Watermarks across reordering steps. The source stamps each record with a watermark that holds at
 * the source: no later record is older. Steps that reorder (an async lookup that holds a key's records
 * while others pass, lanes that run side by side) break that: a record can reach the dedup windows
 * after records whose watermark has already closed its window, and would be dropped as late.
 *
 * `EventTimeHold` (the logic behind the `watermarkHold` operator) restores the guarantee between two points of the chain: `enter` notes each record's
 * event time (and wraps its settlement, so a record that leaves early — dead-lettered, dropped —
 * stops counting), `leave` stamps the record with min(its watermark, oldest event time still between
 * the two points − 1). Windows then close only once nothing older is still on its way.
 *
 * State: a count per event time of the records between the points (bounded by the runtime's
 * max-unsettled) and a lazy min-heap over them.
 */
import type { Envelope } from '../../core/envelope.js';
import type { Settlement, SettlementOutcome } from '../../core/settlement.js';

interface Token {
  readonly original: Settlement;
  readonly eventTimeMs: number;
  open: boolean;
}

export class EventTimeHold {
  readonly #counts = new Map<number, number>();
  readonly #heap: number[] = [];
  readonly #tokens = new WeakMap<Settlement, Token>();
  #held = 0;

  /** Records between the two points now. */
  get size(): number {
    return this.#held;
  }

  enter<T>(envelope: Envelope<T>): Envelope<T> {
    const token: Token = { original: envelope.settlement, eventTimeMs: envelope.eventTimeMs, open: true };
    const close = (): void => this.#close(token);
    const wrapper: Settlement = {
      settle: (outcome: SettlementOutcome) => {
        close();
        token.original.settle(outcome);
      },
      split: (count: number) => {
        close();
        return token.original.split(count);
      },
      get settled() {
        return token.original.settled;
      },
    };
    this.#tokens.set(wrapper, token);
    this.#counts.set(token.eventTimeMs, (this.#counts.get(token.eventTimeMs) ?? 0) + 1);
    this.#held++;
    this.#push(token.eventTimeMs);
    return { ...envelope, settlement: wrapper };
  }

  leave<T>(envelope: Envelope<T>): Envelope<T> {
    const token = this.#tokens.get(envelope.settlement);
    if (token === undefined) return envelope; // did not pass enter: nothing held it
    this.#close(token);
    const oldest = this.#oldest();
    const watermarkMs = oldest === undefined ? envelope.watermarkMs : Math.min(envelope.watermarkMs, oldest - 1);
    return { ...envelope, settlement: token.original, watermarkMs };
  }

  #close(token: Token): void {
    if (!token.open) return;
    token.open = false;
    this.#held--;
    const count = (this.#counts.get(token.eventTimeMs) ?? 1) - 1;
    if (count <= 0) this.#counts.delete(token.eventTimeMs);
    else this.#counts.set(token.eventTimeMs, count);
  }

  #oldest(): number | undefined {
    const heap = this.#heap;
    while (heap.length > 0 && !this.#counts.has(heap[0]!)) this.#pop();
    return heap[0];
  }

  #push(value: number): void {
    const heap = this.#heap;
    heap.push(value);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]! <= heap[i]!) break;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && heap[l]! < heap[m]!) m = l;
      if (r < heap.length && heap[r]! < heap[m]!) m = r;
      if (m === i) return;
      [heap[m], heap[i]] = [heap[i]!, heap[m]!];
      i = m;
    }
  }
}
