/**
 * A bottom-k ("top-k by key") reservoir: keeps the `capacity` items with the largest keys.
 *
 * Every reservoir strategy in adaptiveSample is one of these with a different key:
 * - uniform:  key = ln u                    (top-k of random keys = a simple random sample)
 * - A-Res:    key = ln(u) / w               (Efraimidis–Spirakis; log space keeps u^(1/w) from underflowing)
 * - priority: key = ln w − ln u             (Duffield–Lund–Thorup priority w/u, in log space)
 * The largest key ever discarded (evicted or rejected) is kept: it is the (k+1)-th key the
 * estimators need for inclusion weights. Top-k composes: the top k' < k of a top-k sample is the
 * top k' of the whole input, so a window can decide its final k only when it closes.
 *
 * A binary min-heap over parallel arrays; offer is O(log k), no allocation per record once full.
 */
export interface KeyedItem<T> {
  readonly item: T;
  readonly logKey: number;
}

export class TopKeyReservoir<T> {
  readonly capacity: number;
  readonly #keys: number[] = [];
  readonly #items: T[] = [];
  #maxDiscardedLogKey = -Infinity;

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`TopKeyReservoir: capacity must be an integer ≥ 1, got ${capacity}`);
    }
    this.capacity = capacity;
  }

  get size(): number {
    return this.#keys.length;
  }

  get full(): boolean {
    return this.#keys.length >= this.capacity;
  }

  /** The smallest key held (the one the next accepted item would evict); -Infinity when empty. */
  get minLogKey(): number {
    return this.#keys[0] ?? -Infinity;
  }

  /** The largest key discarded so far; -Infinity if nothing has been discarded. */
  get maxDiscardedLogKey(): number {
    return this.#maxDiscardedLogKey;
  }

  /** Notes the key of an item rejected without being offered (A-ExpJ skips). */
  noteDiscarded(logKey: number): void {
    if (logKey > this.#maxDiscardedLogKey) this.#maxDiscardedLogKey = logKey;
  }

  /** Offers an item. Returns the item that left (the evicted one, or `item` itself), or undefined. */
  offer(item: T, logKey: number): T | undefined {
    const keys = this.#keys;
    if (keys.length < this.capacity) {
      keys.push(logKey);
      this.#items.push(item);
      this.#siftUp(keys.length - 1);
      return undefined;
    }
    if (logKey <= keys[0]!) {
      this.noteDiscarded(logKey);
      return item;
    }
    const evicted = this.#items[0]!;
    this.noteDiscarded(keys[0]!);
    keys[0] = logKey;
    this.#items[0] = item;
    this.#siftDown(0);
    return evicted;
  }

  /**
   * Empties the reservoir: the `k` largest-key items are chosen (largest first) and the rest
   * discarded. `thresholdLogKey` is the (k+1)-th largest key over everything ever offered.
   */
  drain(k: number): { chosen: KeyedItem<T>[]; discarded: T[]; thresholdLogKey: number } {
    const order = this.#keys.map((_, i) => i).sort((a, b) => this.#keys[b]! - this.#keys[a]!);
    const chosen: KeyedItem<T>[] = [];
    const discarded: T[] = [];
    let thresholdLogKey = this.#maxDiscardedLogKey;
    order.forEach((index, rank) => {
      const logKey = this.#keys[index]!;
      const item = this.#items[index]!;
      if (rank < k) chosen.push({ item, logKey });
      else {
        discarded.push(item);
        if (logKey > thresholdLogKey) thresholdLogKey = logKey;
      }
    });
    this.#keys.length = 0;
    this.#items.length = 0;
    return { chosen, discarded, thresholdLogKey };
  }

  #siftUp(index: number): void {
    const keys = this.#keys;
    const items = this.#items;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (keys[parent]! <= keys[index]!) break;
      this.#swap(index, parent, keys, items);
      index = parent;
    }
  }

  #siftDown(index: number): void {
    const keys = this.#keys;
    const items = this.#items;
    const n = keys.length;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= n) return;
      const right = left + 1;
      const smallest = right < n && keys[right]! < keys[left]! ? right : left;
      if (keys[index]! <= keys[smallest]!) return;
      this.#swap(index, smallest, keys, items);
      index = smallest;
    }
  }

  #swap(a: number, b: number, keys: number[], items: T[]): void {
    const key = keys[a]!;
    keys[a] = keys[b]!;
    keys[b] = key;
    const item = items[a]!;
    items[a] = items[b]!;
    items[b] = item;
  }
}
