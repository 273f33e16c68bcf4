/**
 * Seeded randomness for operators. Operators never call Math.random: they take a {@link SeededRandom}
 * (default seed 0) and each subscription draws from its own clone, so a replay gives the same sample
 * and every test is deterministic. Backed by pure-rand's xoroshiro128+.
 */
import { xoroshiro128plus, xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import type { JumpableRandomGenerator } from 'pure-rand/types/JumpableRandomGenerator';

export class SeededRandom {
  readonly #generator: JumpableRandomGenerator;

  private constructor(generator: JumpableRandomGenerator) {
    this.#generator = generator;
  }

  /** A generator from a 32-bit integer seed. */
  static fromSeed(seed: number): SeededRandom {
    if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
    return new SeededRandom(xoroshiro128plus(seed | 0));
  }

  /** A generator restored from {@link snapshot}. */
  static fromState(state: readonly number[]): SeededRandom {
    return new SeededRandom(xoroshiro128plusFromState(state));
  }

  /** Uniform in [0, 1), 53 random bits. */
  nextFloat(): number {
    return uniformFloat64(this.#generator);
  }

  /** Uniform in (0, 1]: safe to take the logarithm of. */
  nextOpenFloat(): number {
    return 1 - uniformFloat64(this.#generator);
  }

  /**
   * A standard normal draw (Box–Muller): the radius from one draw of {@link nextOpenFloat} (never
   * log 0), the angle from one of {@link nextFloat}, in that order.
   */
  nextGaussian(): number {
    const radius = Math.sqrt(-2 * Math.log(this.nextOpenFloat()));
    return radius * Math.cos(2 * Math.PI * this.nextFloat());
  }

  /** An independent copy at the same position (each subscription clones the configured generator). */
  clone(): SeededRandom {
    return new SeededRandom(this.#generator.clone());
  }

  /** An independent stream 2^64 draws away (for a second consumer that must not correlate). */
  jumped(): SeededRandom {
    const copy = this.#generator.clone();
    copy.jump();
    return new SeededRandom(copy);
  }

  /** Plain serialisable state. */
  snapshot(): number[] {
    return [...this.#generator.getState()];
  }
}

/** Checks a `random` option at factory time. */
export function assertSeededRandom(random: unknown, optionName: string): void {
  if (random !== undefined && !(random instanceof SeededRandom)) {
    throw new TypeError(`${optionName} must be a SeededRandom (SeededRandom.fromSeed(n)), got ${String(random)}`);
  }
}
