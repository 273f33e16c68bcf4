/**
 * Restores arrival order for `enrich({ ordered: true })`: results arrive by sequence number in any
 * order and leave in sequence order. Holds only results that wait for an earlier one.
 */
export class ReorderBuffer<R> {
  readonly #waiting = new Map<number, R>();
  #nextSeq = 0;
  #issued = 0;

  /** The sequence number of the next record to arrive. */
  issue(): number {
    return this.#issued++;
  }

  /** Stores the result of `seq`; returns the results now releasable, in order. */
  complete(seq: number, result: R): R[] {
    if (seq !== this.#nextSeq) {
      this.#waiting.set(seq, result);
      return [];
    }
    const out = [result];
    this.#nextSeq++;
    for (let next = this.#waiting.get(this.#nextSeq); next !== undefined; next = this.#waiting.get(this.#nextSeq)) {
      this.#waiting.delete(this.#nextSeq);
      out.push(next);
      this.#nextSeq++;
    }
    return out;
  }

  get held(): number {
    return this.#waiting.size;
  }
}
