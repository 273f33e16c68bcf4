/**
 * Half-Space Trees (Tan, Ting & Liu 2011): a streaming, multivariate anomaly detector.
 *
 * A forest of random trees over a fixed workspace splits [0, 1]^d at node midpoints on random
 * dimensions. Each node counts the points that fall through it in the reference window (`r`, the
 * previous window) and the latest window (`l`, being filled); every `windowPoints` points `l` becomes
 * `r`. A point's mass is Σ over trees of r(node)·2^depth at the first node whose r is below the size
 * limit (or the leaf): anomalies fall where the reference saw little. The raw mass is turned into a
 * score in [0, 1] by its rank among the masses of the reference window's points (the fraction of them
 * with a higher mass), so a score of 0.99 means "sparser than 99% of recent points" on any data.
 *
 * Inputs are scaled to [0, 1] with per-dimension ranges learnt in the first window (padded by a
 * quarter of the range each side, clipped beyond). The first two windows only learn and score 0.
 * Randomness comes from a seeded pure-rand generator: the same seed builds the same forest.
 */
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { resolveNumberOptions } from './options.js';
import type { Detector, DetectorFactory, DetectorState, PointScore } from './types.js';

export const halfSpaceForestOptionSpec = {
  /** Trees in the forest. Default 25. */
  trees: { default: 25, min: 1, max: 1000, integer: true },
  /** Depth of each tree. Default 10. */
  depth: { default: 10, min: 1, max: 20, integer: true },
  /** Points per reference window (and warm-up). Default 250. */
  windowPoints: { default: 250, min: 10, max: 1e6, integer: true },
  /** Size limit as a fraction of the window: a node below it ends the walk. Default 0.1. */
  sizeLimitFraction: { default: 0.1, min: 0, max: 1 },
  /** Seed of the generator that builds the trees. Default 42. */
  seed: { default: 42, min: -(2 ** 31), max: 2 ** 31 - 1, integer: true },
  /** Finding threshold on the score. Default 0.995. */
  threshold: { default: 0.995, min: 0, max: 1 },
} as const;

type ForestOptions = Record<keyof typeof halfSpaceForestOptionSpec, number>;

interface Tree {
  /** Split dimension and value per internal node (heap layout: children of i are 2i+1, 2i+2). */
  readonly splitDim: Int32Array;
  readonly splitValue: Float64Array;
  readonly r: Float64Array;
  readonly l: Float64Array;
}

/** The forest over d-dimensional vectors. */
export class HalfSpaceForest {
  readonly #o: ForestOptions;
  readonly #dims: number;
  readonly #trees: Tree[] = [];
  #seen = 0;
  #lo: number[];
  #hi: number[];
  #rangeFixed = false;
  /** Masses of the points of the window being filled, and the previous window's, sorted ascending. */
  #latestMasses: number[] = [];
  #referenceMasses: number[] = [];
  /** Per-dimension mean of the reference window (which dimension a finding names). */
  #sum: number[];
  #referenceMean: number[];

  constructor(dims: number, options?: Readonly<Record<string, number>>) {
    if (!Number.isInteger(dims) || dims < 1) throw new RangeError(`half-space-trees: dims must be an integer ≥ 1, got ${dims}`);
    this.#o = resolveNumberOptions('half-space-trees', halfSpaceForestOptionSpec, options);
    this.#dims = dims;
    this.#lo = new Array<number>(dims).fill(Infinity);
    this.#hi = new Array<number>(dims).fill(-Infinity);
    this.#sum = new Array<number>(dims).fill(0);
    this.#referenceMean = new Array<number>(dims).fill(0.5);
    const rng = xoroshiro128plus(this.#o.seed);
    const nodes = 2 ** (this.#o.depth + 1) - 1;
    for (let t = 0; t < this.#o.trees; t++) {
      const splitDim = new Int32Array(nodes);
      const splitValue = new Float64Array(nodes);
      // Random workspace per tree (Tan et al.): s in [0,1], range [s − 2max(s,1−s), s + 2max(s,1−s)].
      const lo: number[] = [];
      const hi: number[] = [];
      for (let d = 0; d < dims; d++) {
        const s = uniformFloat64(rng);
        const half = 2 * Math.max(s, 1 - s);
        lo.push(s - half);
        hi.push(s + half);
      }
      const build = (node: number, depth: number, nodeLo: number[], nodeHi: number[]): void => {
        if (depth >= this.#o.depth) return;
        const d = uniformInt(rng, 0, dims - 1);
        const mid = (nodeLo[d]! + nodeHi[d]!) / 2;
        splitDim[node] = d;
        splitValue[node] = mid;
        const leftHi = [...nodeHi];
        leftHi[d] = mid;
        const rightLo = [...nodeLo];
        rightLo[d] = mid;
        build(2 * node + 1, depth + 1, nodeLo, leftHi);
        build(2 * node + 2, depth + 1, rightLo, nodeHi);
      };
      build(0, 0, lo, hi);
      this.#trees.push({ splitDim, splitValue, r: new Float64Array(nodes), l: new Float64Array(nodes) });
    }
  }

  get dims(): number {
    return this.#dims;
  }

  /** Scores the vector against the reference window, then learns it. Returns the score and the most deviant dimension. */
  scoreAndLearn(raw: readonly number[]): { score: number; dimension: number } {
    if (raw.length !== this.#dims || !raw.every(Number.isFinite)) return { score: 0, dimension: 0 };
    const windowPoints = this.#o.windowPoints;
    if (!this.#rangeFixed) {
      for (let d = 0; d < this.#dims; d++) {
        this.#lo[d] = Math.min(this.#lo[d]!, raw[d]!);
        this.#hi[d] = Math.max(this.#hi[d]!, raw[d]!);
      }
    }
    const x = raw.map((v, d) => this.#scale(v, d));
    let score = 0;
    let dimension = 0;
    const mass = this.#mass(x);
    const ref = this.#referenceMasses;
    if (ref.length > 0) {
      // Rank among the reference masses: the share of reference points with a strictly higher mass,
      // over n + 1 so that a point sparser than all of them does not tie at 1 — below the sparsest
      // reference point it keeps rising with how far below (mass ≥ 0, so the last step stays < 1).
      const higher = ref.length - upperBound(ref, mass);
      const belowSparsest = higher === ref.length && ref[0]! > 0 ? (ref[0]! - mass) / (ref[0]! + 1) : 0;
      score = (higher + belowSparsest) / (ref.length + 1);
      let worst = -1;
      for (let d = 0; d < this.#dims; d++) {
        const deviation = Math.abs(x[d]! - this.#referenceMean[d]!);
        if (deviation > worst) {
          worst = deviation;
          dimension = d;
        }
      }
    }
    for (const tree of this.#trees) {
      let node = 0;
      for (let depth = 0; ; depth++) {
        tree.l[node]! += 1;
        if (depth >= this.#o.depth) break;
        node = x[tree.splitDim[node]!]! < tree.splitValue[node]! ? 2 * node + 1 : 2 * node + 2;
      }
    }
    this.#latestMasses.push(mass);
    for (let d = 0; d < this.#dims; d++) this.#sum[d]! += x[d]!;
    this.#seen++;
    if (this.#seen % windowPoints === 0) this.#rotate();
    return { score, dimension };
  }

  #scale(v: number, d: number): number {
    const lo = this.#lo[d]!;
    const hi = this.#hi[d]!;
    const pad = (hi - lo) / 4 || Math.abs(lo) / 4 || 1;
    const scaled = (v - (lo - pad)) / (hi - lo + 2 * pad);
    return Math.min(1, Math.max(0, scaled));
  }

  #mass(x: readonly number[]): number {
    const sizeLimit = this.#o.sizeLimitFraction * this.#o.windowPoints;
    let total = 0;
    for (const tree of this.#trees) {
      let node = 0;
      for (let depth = 0; ; depth++) {
        if (tree.r[node]! < sizeLimit || depth >= this.#o.depth) {
          total += tree.r[node]! * 2 ** depth;
          break;
        }
        node = x[tree.splitDim[node]!]! < tree.splitValue[node]! ? 2 * node + 1 : 2 * node + 2;
      }
    }
    return total;
  }

  #rotate(): void {
    const first = !this.#rangeFixed;
    this.#rangeFixed = true;
    for (const tree of this.#trees) {
      tree.r.set(tree.l);
      tree.l.fill(0);
    }
    this.#referenceMean = this.#sum.map((s) => s / this.#o.windowPoints);
    this.#sum.fill(0);
    // The first window's masses were measured against an empty reference, so they rank nothing: the
    // second window learns the ranks and scoring starts with the third.
    this.#referenceMasses = first ? [] : this.#latestMasses.sort((a, b) => a - b);
    this.#latestMasses = [];
  }

  snapshot(): DetectorState {
    return {
      seen: this.#seen,
      lo: [...this.#lo],
      hi: [...this.#hi],
      rangeFixed: this.#rangeFixed,
      latestMasses: [...this.#latestMasses],
      referenceMasses: [...this.#referenceMasses],
      sum: [...this.#sum],
      referenceMean: [...this.#referenceMean],
      r: this.#trees.map((t) => Array.from(t.r)),
      l: this.#trees.map((t) => Array.from(t.l)),
    };
  }

  restore(state: DetectorState): void {
    const s = state as Record<string, unknown>;
    const r = s['r'] as number[][] | undefined;
    const l = s['l'] as number[][] | undefined;
    if (!Array.isArray(r) || !Array.isArray(l) || r.length !== this.#trees.length || typeof s['seen'] !== 'number') {
      throw new TypeError('half-space-trees: restore() needs a snapshot of a forest with the same options');
    }
    this.#seen = s['seen'];
    this.#lo = [...(s['lo'] as number[])];
    this.#hi = [...(s['hi'] as number[])];
    this.#rangeFixed = s['rangeFixed'] === true;
    this.#latestMasses = [...(s['latestMasses'] as number[])];
    this.#referenceMasses = [...(s['referenceMasses'] as number[])];
    this.#sum = [...(s['sum'] as number[])];
    this.#referenceMean = [...(s['referenceMean'] as number[])];
    this.#trees.forEach((tree, i) => {
      tree.r.set(r[i]!);
      tree.l.set(l[i]!);
    });
  }
}

export const halfSpaceTreesOptionSpec = {
  ...halfSpaceForestOptionSpec,
  /** Consecutive values that form one point of the univariate form. Default 4. */
  shingleSize: { default: 4, min: 1, max: 64, integer: true },
} as const;

/** `half-space-trees` on one series: each point is the shingle of the last `shingleSize` values. */
export class HalfSpaceTreesDetector implements Detector {
  readonly name = 'half-space-trees';
  readonly threshold: number;
  readonly #forest: HalfSpaceForest;
  readonly #shingleSize: number;
  #shingle: number[] = [];

  constructor(options?: Readonly<Record<string, number>>) {
    const o = resolveNumberOptions('half-space-trees', halfSpaceTreesOptionSpec, options);
    const { shingleSize, ...forestOptions } = o;
    this.#shingleSize = shingleSize;
    this.#forest = new HalfSpaceForest(shingleSize, forestOptions);
    this.threshold = o.threshold;
  }

  score(timestampMs: number, value: number): number {
    return this.observe(timestampMs, value).score;
  }

  observe(_timestampMs: number, value: number): PointScore {
    if (!Number.isFinite(value)) return { score: 0, direction: 'SHIFT' };
    this.#shingle.push(value);
    if (this.#shingle.length > this.#shingleSize) this.#shingle.shift();
    if (this.#shingle.length < this.#shingleSize) return { score: 0, direction: 'SHIFT' };
    return { score: this.#forest.scoreAndLearn(this.#shingle).score, direction: 'SHIFT' };
  }

  snapshot(): DetectorState {
    return { shingle: [...this.#shingle], forest: this.#forest.snapshot() };
  }

  restore(state: DetectorState): void {
    const shingle = state['shingle'];
    if (!Array.isArray(shingle)) throw new TypeError('half-space-trees: restore() needs { shingle, forest }');
    this.#forest.restore(state['forest'] as DetectorState);
    this.#shingle = [...(shingle as number[])];
  }
}

export const halfSpaceTrees: DetectorFactory = (options) => new HalfSpaceTreesDetector(options);

function upperBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
