/**
 * Settled-offset tracking for one topic partition.
 *
 * Records are tracked in the order they were consumed (increasing offsets, possibly with gaps where
 * compaction or transaction markers left them). Each record later settles, in any order. The commit
 * position is the offset of the oldest unsettled record — everything below it has met its fate — or,
 * when nothing is unsettled, one past the newest tracked record. Committing exactly that never skips
 * an unsettled record, whatever operators did to ordering.
 *
 * The settled flags live in a ring indexed by a per-partition sequence number, so track and settle
 * are O(1) and the commit position advances in amortised O(1) per record, with no allocation per
 * record once the ring has grown to the number of records in flight.
 */
export class PartitionOffsetTracker {
  #offsets = new Float64Array(1024);
  #settled = new Uint8Array(1024);
  #mask = 1023;
  /** Sequence number of the oldest unsettled record (or of the next record, when none is). */
  #headSeq = 0;
  #tailSeq = 0;
  #lastOffset = -1;
  #settledCount = 0;
  #revoked = false;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  /** Registers the next consumed record; returns the sequence number to settle it with. */
  track(offset: number): number {
    if (offset <= this.#lastOffset) {
      throw new RangeError(
        `${this.topic}[${this.partition}]: offset ${offset} tracked after ${this.#lastOffset}; offsets must increase`,
      );
    }
    if (this.#tailSeq - this.#headSeq === this.#offsets.length) this.#grow();
    const slot = this.#tailSeq & this.#mask;
    this.#offsets[slot] = offset;
    this.#settled[slot] = 0;
    this.#lastOffset = offset;
    return this.#tailSeq++;
  }

  /**
   * Marks a tracked record settled. Returns false (and changes nothing) when the partition was revoked
   * meanwhile: its records' fate no longer moves this instance's commits.
   */
  settle(seq: number): boolean {
    if (this.#revoked) return false;
    if (seq < this.#headSeq || seq >= this.#tailSeq || this.#settled[seq & this.#mask] === 1) {
      throw new RangeError(`${this.topic}[${this.partition}]: sequence ${seq} settled twice or never tracked`);
    }
    this.#settled[seq & this.#mask] = 1;
    this.#settledCount++;
    while (this.#headSeq < this.#tailSeq && this.#settled[this.#headSeq & this.#mask] === 1) {
      this.#settledCount--;
      this.#headSeq++;
    }
    return true;
  }

  /** The offset to commit (next offset to read), or null when nothing has been tracked. */
  commitOffset(): number | null {
    if (this.#lastOffset < 0) return null;
    if (this.#headSeq === this.#tailSeq) return this.#lastOffset + 1;
    return this.#offsets[this.#headSeq & this.#mask]!;
  }

  /**
   * The settled records beyond the commit position, as ranges of offsets (ascending, disjoint): their
   * fate is met although the commit cannot pass them yet. Costs O(records in flight).
   */
  completedAhead(): [first: number, last: number][] {
    const ranges: [number, number][] = [];
    let open: [number, number] | null = null;
    for (let seq = this.#headSeq; seq < this.#tailSeq; seq++) {
      const slot = seq & this.#mask;
      if (this.#settled[slot] === 1) {
        const offset = this.#offsets[slot]!;
        if (open === null) ranges.push((open = [offset, offset]));
        else open[1] = offset;
      } else {
        open = null;
      }
    }
    return ranges;
  }

  /** Records tracked and not yet settled. */
  get unsettled(): number {
    return this.#tailSeq - this.#headSeq - this.#settledCount;
  }

  /** Records between the commit position and the newest tracked one (held in the ring). */
  get inFlight(): number {
    return this.#tailSeq - this.#headSeq;
  }

  get revoked(): boolean {
    return this.#revoked;
  }

  /** Detaches this tracker: later settlements of its records are ignored. */
  revoke(): void {
    this.#revoked = true;
  }

  #grow(): void {
    const size = this.#offsets.length * 2;
    const offsets = new Float64Array(size);
    const settled = new Uint8Array(size);
    for (let seq = this.#headSeq; seq < this.#tailSeq; seq++) {
      offsets[seq & (size - 1)] = this.#offsets[seq & this.#mask]!;
      settled[seq & (size - 1)] = this.#settled[seq & this.#mask]!;
    }
    this.#offsets = offsets;
    this.#settled = settled;
    this.#mask = size - 1;
  }
}
