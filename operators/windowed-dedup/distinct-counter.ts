/**
 * Distinct event ids of one mention, in bounded memory: an exact Set up to `exactLimit` ids, then a
 * Bloom filter (seen-set, false-positive rate `bloomFalsePositiveRate` at `bloomCapacity` ids) and a
 * HyperLogLog. Up to `bloomCapacity` ids the count is the number of ids the Bloom filter admitted as
 * new (it errs low by at most the false-positive rate, and never counts a duplicate); beyond that,
 * where the filter saturates, HyperLogLog's estimate (≈ 1.04/√registers relative error) takes over —
 * bloom-filters' HyperLogLog has no small-range correction, so it is not used below that.
 * Each mention's counter lives and dies with its window, so the filters rotate per window.
 */
import { BloomFilter, HyperLogLog } from 'bloom-filters';

export interface DistinctCounterOptions {
  readonly exactLimit: number;
  readonly bloomCapacity: number;
  readonly bloomFalsePositiveRate: number;
  readonly hyperLogLogRegisters: number;
}

export class DistinctCounter {
  readonly #o: DistinctCounterOptions;
  #exact: Set<string> | null = new Set();
  #bloom: BloomFilter | null = null;
  #hll: HyperLogLog | null = null;
  #admitted = 0;

  constructor(options: DistinctCounterOptions) {
    this.#o = options;
  }

  /** True when approximate structures have taken over. */
  get approximate(): boolean {
    return this.#exact === null;
  }

  /** Adds an id; returns true when it was not seen before (probably, once approximate). */
  add(id: string): boolean {
    if (this.#exact !== null) {
      if (this.#exact.has(id)) return false;
      this.#exact.add(id);
      if (this.#exact.size > this.#o.exactLimit) this.#switchToApproximate();
      return true;
    }
    if (this.#bloom!.has(id)) return false;
    this.#bloom!.add(id);
    this.#hll!.update(id);
    this.#admitted++;
    return true;
  }

  /** Distinct ids added: exact up to the limit, HyperLogLog's estimate above it. */
  count(): number {
    if (this.#exact !== null) return this.#exact.size;
    if (this.#admitted < this.#o.bloomCapacity) return this.#admitted;
    return Math.max(this.#admitted, Math.round(this.#hll!.count()));
  }

  #switchToApproximate(): void {
    this.#bloom = BloomFilter.create(this.#o.bloomCapacity, this.#o.bloomFalsePositiveRate);
    this.#hll = new HyperLogLog(this.#o.hyperLogLogRegisters);
    for (const id of this.#exact!) {
      this.#bloom.add(id);
      this.#hll.update(id);
    }
    this.#admitted = this.#exact!.size;
    this.#exact = null;
  }
}
