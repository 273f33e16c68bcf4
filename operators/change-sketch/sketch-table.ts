/**
 * The change sketch's state and arithmetic, per key × field: a robust baseline and a two-sided CUSUM
 * on clipped standardised values. Plain class, no RxJS; `changeSketch` is the operator around it.
 *
 * Per key × field (a "cell"), on each transformed value x:
 *
 * 1. Baseline. The first `warmupPoints` values are kept and give the median and the MAD (×1.4826;
 *    the mean absolute deviation ×1.2533 when the MAD is 0, as for discrete fields). After that the
 *    mean and variance learn exponentially (`learnRate`) from the deviation clipped at `learnClip`
 *    scales (Huber), the variance corrected for the clipping so that it is unbiased on Gaussian data.
 *    Learning freezes while the cell is alarmed, for `cooldownPoints` of its values after an alarm,
 *    and while either CUSUM half is above a quarter of the level (its points are evidence, not baseline).
 * 2. A cold key (fewer than `warmupPoints` values of its own) is scored against its fallback key's
 *    baseline (the model's, over all its segments) plus an offset of its own, learnt from its values
 *    in the fallback's units (running mean, then exponential at `offsetRate`, clipped at ±3).
 * 3. z = (x − mean) / scale, clipped at ±`clipZ`; S⁺ = max(0, S⁺ + z − k), S⁻ = max(0, S⁻ − z − k),
 *    each capped at `capFactor` × h so that an alarm ends within a few values of the shift's end.
 *    A half alarms when it reaches h (an episode starts), and the episode ends when it falls back
 *    below h; the half then restarts from 0 (each episode is a renewal, as the ARL assumes).
 * 4. A baseline frozen for longer than `relearnAfterMs` of event time (one long episode, or many
 *    with short gaps) is stale: a level shift or a drift is the new normal. The episode ends, and the
 *    cell's baseline is learnt afresh from its next `warmupPoints` values (scored by nothing meanwhile).
 *
 * The level h follows from a false-alarm budget (alarm-level.ts) and the record rate measured over
 * event time, or is fixed. State: bounded by `maxKeys` keys and `maxKeys` fallback keys; beyond them
 * an idle key is evicted (second chance: one not seen since the clock last passed it; counted).
 */
import { alarmLevelFor, targetArl } from './alarm-level.js';
import { transformValue, type FieldTransform } from './transforms.js';

/** Which way an alarm points. */
export type AlarmDirection = 'up' | 'down';

/** One alarmed field of one record. */
export interface SketchAlarm {
  readonly field: string;
  readonly direction: AlarmDirection;
  /** Grows with the CUSUM statistic: statistic / cap, in [1 / capFactor, 1] while alarmed. */
  readonly score: number;
  /** The CUSUM half's value after this record. */
  readonly statistic: number;
  /** The level h it is compared with. */
  readonly level: number;
  /** This record's standardised value (clipped), so a consumer can tell which records carry the shift. */
  readonly z: number;
  /** Event time at which the episode started, ms. */
  readonly startedAtMs: number;
  /** Whose baseline scored it: the key's own or its fallback's plus the key's offset. */
  readonly baseline: 'own' | 'fallback';
}

/** What the sketch says about one record. */
export interface SketchVerdict {
  readonly alarms: readonly SketchAlarm[];
  /** The key's largest CUSUM half over its fields, divided by h (≥ 1: alarmed). 0 while cold. */
  readonly suspicion: number;
}

/** The level: fixed, or from a budget of false alarms per hour of event time. */
export type SketchLevel =
  | { readonly fixed: number }
  | {
      readonly falseAlarmsPerHour: number;
      /** The record rate; default measured over event time (records ÷ event-time span, ≥ 1 s). */
      readonly recordsPerHour?: number;
      /** Shift added to the calibrated level (alarm-level.ts). Default 0. */
      readonly correction?: number;
    };

/**
 * Factors on the level per key × field, set at run time (model-monitor recalibrates them from
 * labels). The table reads a key's factors when it first sees the key after `version` changed, so a
 * new factor acts from that key's next record; nothing of it is in the table's snapshot (its owner
 * keeps it).
 */
export interface LevelScales {
  /** Changes whenever a factor may have changed. */
  readonly version: number;
  /** The factor on h for `key` × `field` (> 0, finite); `fallbackKey` as `update` was given it. */
  scaleOf(key: string, fallbackKey: string | undefined, field: string): number;
}

export interface SketchTableOptions {
  /** Field names, in the order of the values passed to `update`. */
  readonly fields: readonly string[];
  /** Each field's transform, applied to the raw values passed to `update`. Default identity. */
  readonly transforms?: readonly FieldTransform[];
  readonly level: SketchLevel;
  readonly referenceK?: number;
  readonly clipZ?: number;
  readonly learnRate?: number;
  readonly learnClip?: number;
  readonly warmupPoints?: number;
  readonly cooldownPoints?: number;
  readonly capFactor?: number;
  readonly offsetRate?: number;
  readonly relearnAfterMs?: number;
  readonly maxKeys?: number;
  /** Factors on the level per key × field. Default: none (every cell at h). */
  readonly levelScales?: LevelScales;
}

/** Counters of one table (monotonic but for `keys`). */
export interface SketchCounts {
  records: number;
  episodes: number;
  relearns: number;
  evictions: number;
  keys: number;
}

const MS_PER_HOUR = 3_600_000;
const RATE_BUCKET_MS = 60_000;
/** The rate is measured over at least this much event time (the first record alone says little). */
const MIN_RATE_SPAN_MS = 1000;
/** A cell's own baseline and CUSUM. The baseline slots also serve the fallback keys. */
class Baseline {
  n = 0;
  /** Effective number of values behind the mean (the median of the warm-up, then the exponential average). */
  neff = 0;
  /** Effective number of values behind the variance (the MAD of the warm-up, then the exponential average). */
  nvar = 0;
  /** An 'auto' field's transform, chosen on the warm-up values: 0 not yet, 1 identity, 2 logit. */
  mode = 0;
  /** Derived from the above after each learnt value (not in snapshots): the scale, the guarded scale z divides by, the guard band on k. */
  scale = 0;
  zScale = 0;
  guard = 0;
  mean = 0;
  variance = 0;
  buffer: number[] | null = [];
}

class Cell extends Baseline {
  up = 0;
  down = 0;
  /** Event time the up / down episode started; NaN: not alarmed. */
  upStartMs = NaN;
  downStartMs = NaN;
  cooldown = 0;
  offset = 0;
  offsetN = 0;
  /** Re-learning its baseline after a long episode: not scored until warm. */
  relearning = false;
  /** Event time since which the baseline has not learnt (alarmed, cooling down, suspicious); NaN: it learns. */
  frozenSinceMs = NaN;
}

interface KeyState {
  readonly cells: Cell[];
  /** Seen since the eviction clock last passed it (second-chance eviction). */
  seen: boolean;
  /** The level factors per field as read at `scalesVersion` (with `levelScales` only). */
  scales?: Float64Array;
  scalesVersion?: number;
}

interface FallbackState {
  readonly baselines: Baseline[];
  seen: boolean;
}

const EMPTY: readonly SketchAlarm[] = Object.freeze([]);

/** E[min(z², c²)] for z ~ N(0, 1): what a Huber-clipped variance estimates, to be divided out. */
function clippedSecondMoment(c: number): number {
  const phi = Math.exp((-c * c) / 2) / Math.sqrt(2 * Math.PI);
  const tail = erfc(c / Math.SQRT2); // P(|z| > c)
  return 1 - tail - 2 * c * phi + c * c * tail;
}

function erfc(x: number): number {
  // Abramowitz–Stegun 7.1.26, |error| < 1.5e-7: enough for a variance correction.
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return poly * Math.exp(-x * x);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export class SketchTable {
  readonly fields: readonly string[];
  readonly #transforms: readonly FieldTransform[];
  readonly #k: number;
  readonly #clipZ: number;
  readonly #learnRate: number;
  /** (1 − learnRate)² and learnRate²: the effective sample size's recursion. */
  readonly #keep2: number;
  readonly #rate2: number;
  readonly #learnClip: number;
  readonly #varianceCorrection: number;
  readonly #warmup: number;
  readonly #cooldown: number;
  readonly #capFactor: number;
  readonly #offsetRate: number;
  readonly #relearnAfterMs: number;
  readonly #maxKeys: number;
  readonly #levelSpec: SketchLevel;
  readonly #levelScales: LevelScales | undefined;
  readonly #keys = new Map<string, KeyState>();
  readonly #fallbacks = new Map<string, FallbackState>();
  readonly counts: SketchCounts = { records: 0, episodes: 0, relearns: 0, evictions: 0, keys: 0 };
  #h = 0;
  #firstMs = NaN;
  #lastMs = NaN;
  #bucket = NaN;

  constructor(options: SketchTableOptions) {
    this.fields = [...options.fields];
    this.#transforms = this.fields.map((_, i) => options.transforms?.[i] ?? 'identity');
    this.#k = options.referenceK ?? 0.5;
    this.#clipZ = options.clipZ ?? 4;
    this.#learnRate = options.learnRate ?? 0.01;
    this.#keep2 = (1 - this.#learnRate) ** 2;
    this.#rate2 = this.#learnRate ** 2;
    this.#learnClip = options.learnClip ?? 2;
    this.#varianceCorrection = 1 / clippedSecondMoment(this.#clipZ);
    this.#warmup = options.warmupPoints ?? 50;
    this.#cooldown = options.cooldownPoints ?? 20;
    this.#capFactor = options.capFactor ?? 1.25;
    this.#offsetRate = options.offsetRate ?? 0.05;
    this.#relearnAfterMs = options.relearnAfterMs ?? 2 * MS_PER_HOUR;
    this.#maxKeys = options.maxKeys ?? 100_000;
    this.#levelSpec = options.level;
    this.#levelScales = options.levelScales;
    this.#setLevel(this.#initialLevel());
  }

  /** The current level h. */
  get level(): number {
    return this.#h;
  }

  /** Records per hour of event time, as measured (or as given). */
  get recordsPerHour(): number {
    const spec = this.#levelSpec;
    if ('recordsPerHour' in spec && spec.recordsPerHour !== undefined) return spec.recordsPerHour;
    if (Number.isNaN(this.#firstMs)) return 0;
    return (this.counts.records * MS_PER_HOUR) / Math.max(MIN_RATE_SPAN_MS, this.#lastMs - this.#firstMs);
  }

  /**
   * Scores one record of `key` (values: raw, in field order; NaN = absent) at `eventTimeMs`,
   * then learns from it. `fallbackKey`: the coarser key whose baseline scores a cold key.
   */
  update(key: string, fallbackKey: string | undefined, eventTimeMs: number, values: ArrayLike<number>): SketchVerdict {
    this.#noteTime(eventTimeMs);
    const state = this.#keyState(key);
    const fallback = fallbackKey === undefined ? undefined : this.#fallbackOf(fallbackKey);
    const scales = this.#levelScales === undefined ? undefined : this.#scalesOf(state, key, fallbackKey);
    let alarms: SketchAlarm[] | undefined;
    let suspicion = 0;
    for (let i = 0; i < this.fields.length; i++) {
      const value = values[i]!;
      const cell = state.cells[i]!;
      const h = scales === undefined ? this.#h : this.#h * scales[i]!;
      const cap = h * this.#capFactor;
      const base = fallback?.[i];
      const transform = this.#transforms[i]!;
      // The value as the cell's baseline reads it, and as the fallback's does ('auto' may differ).
      const x = Number.isNaN(value) ? NaN : transformFor(cell, transform, value);
      const xb = base === undefined || Number.isNaN(value) ? NaN : transform === 'auto' ? transformFor(base, transform, value) : x;
      if (Number.isNaN(x) && Number.isNaN(xb)) {
        suspicion = Math.max(suspicion, cell.up / h, cell.down / h);
        continue;
      }
      const freezeAt = h / 4;
      const frozen = !Number.isNaN(cell.upStartMs) || !Number.isNaN(cell.downStartMs) || cell.cooldown > 0 || cell.up >= freezeAt || cell.down >= freezeAt;
      let z = NaN;
      let raw = NaN;
      let usingFallback = false;
      // The baseline is an estimate, and its errors are persistent: a mean that is off biases every z,
      // a scale that is short inflates every z, and a CUSUM sums them. So a young baseline is taken at
      // two standard errors against the alarm: k widens by two standard errors of the mean, and the
      // scale by two relative standard errors of the scale (a new key; a cold key on its fallback's
      // baseline and a few values of offset).
      let guard = 0;
      if (cell.buffer === null) {
        if (Number.isNaN(x)) continue;
        z = (x - cell.mean) / cell.zScale;
        guard = cell.guard;
      } else if (!cell.relearning && base !== undefined && base.buffer === null && !Number.isNaN(xb)) {
        raw = (xb - base.mean) / base.zScale;
        z = raw - cell.offset;
        usingFallback = true;
        const offsetNeff = Math.min(cell.offsetN, (2 - this.#offsetRate) / this.#offsetRate);
        guard = 2 * Math.sqrt(1 / base.neff + (offsetNeff > 0 ? 1 / offsetNeff : 1));
      }
      if (!Number.isNaN(z)) {
        const zc = z > this.#clipZ ? this.#clipZ : z < -this.#clipZ ? -this.#clipZ : z;
        const k = this.#k + guard;
        cell.up = Math.min(cap, Math.max(0, cell.up + zc - k));
        cell.down = Math.min(cap, Math.max(0, cell.down - zc - k));
        const upAlarm = this.#step(cell, 'up', eventTimeMs, h);
        const downAlarm = this.#step(cell, 'down', eventTimeMs, h);
        if (upAlarm || downAlarm) {
          alarms ??= [];
          const baseline = usingFallback ? 'fallback' : 'own';
          if (upAlarm) alarms.push({ field: this.fields[i]!, direction: 'up', score: cell.up / cap, statistic: cell.up, level: h, z: zc, startedAtMs: cell.upStartMs, baseline });
          if (downAlarm) alarms.push({ field: this.fields[i]!, direction: 'down', score: cell.down / cap, statistic: cell.down, level: h, z: zc, startedAtMs: cell.downStartMs, baseline });
        }
      }
      suspicion = Math.max(suspicion, cell.up / h, cell.down / h);
      if (frozen) {
        if (cell.cooldown > 0 && Number.isNaN(cell.upStartMs) && Number.isNaN(cell.downStartMs)) cell.cooldown--;
        // A baseline that has not learnt for relearnAfterMs is stale, however its episodes came and
        // went (a shift that fragments into many episodes locks the baseline in as surely as one).
        if (Number.isNaN(cell.frozenSinceMs)) cell.frozenSinceMs = eventTimeMs;
        else if (eventTimeMs - cell.frozenSinceMs > this.#relearnAfterMs) this.#relearn(cell);
        continue;
      }
      cell.frozenSinceMs = NaN;
      if (!Number.isNaN(x)) this.#learn(cell, x, transform);
      if (cell.relearning && cell.buffer === null) cell.relearning = false;
      if (base !== undefined && !Number.isNaN(xb)) this.#learn(base, xb, transform);
      if (usingFallback) {
        cell.offsetN++;
        const rate = Math.max(1 / cell.offsetN, this.#offsetRate);
        const d = raw - cell.offset;
        cell.offset += rate * (d > 3 ? 3 : d < -3 ? -3 : d);
      }
    }
    this.counts.records++;
    return { alarms: alarms ?? EMPTY, suspicion };
  }

  /** A key's level factors, read again when the scales' version has changed since it last read them. */
  #scalesOf(state: KeyState, key: string, fallbackKey: string | undefined): Float64Array {
    const source = this.#levelScales!;
    if (state.scales !== undefined && state.scalesVersion === source.version) return state.scales;
    const scales = state.scales ?? new Float64Array(this.fields.length);
    for (let i = 0; i < this.fields.length; i++) {
      const scale = source.scaleOf(key, fallbackKey, this.fields[i]!);
      if (!(scale > 0 && scale < Infinity)) throw new RangeError(`changeSketch: levelScales.scaleOf(${JSON.stringify(key)}, '${this.fields[i]}') must be a finite number > 0, got ${scale}`);
      scales[i] = scale;
    }
    state.scales = scales;
    state.scalesVersion = source.version;
    return scales;
  }

  /** Advances one CUSUM half's episode state; true while that half is alarmed after this record. */
  #step(cell: Cell, direction: AlarmDirection, eventTimeMs: number, h: number): boolean {
    const value = direction === 'up' ? cell.up : cell.down;
    const startMs = direction === 'up' ? cell.upStartMs : cell.downStartMs;
    if (Number.isNaN(startMs)) {
      if (value < h) return false;
      this.counts.episodes++;
      if (direction === 'up') cell.upStartMs = eventTimeMs;
      else cell.downStartMs = eventTimeMs;
      return true;
    }
    if (value >= h) return true;
    // The episode ends: the half restarts from 0, the baseline waits out the cool-down.
    if (direction === 'up') {
      cell.up = 0;
      cell.upStartMs = NaN;
    } else {
      cell.down = 0;
      cell.downStartMs = NaN;
    }
    cell.cooldown = this.#cooldown;
    return false;
  }

  /** A long episode is a new normal: forget the baseline and learn it again. */
  #relearn(cell: Cell): void {
    this.counts.relearns++;
    cell.n = 0;
    cell.neff = 0;
    cell.nvar = 0;
    cell.mode = 0;
    cell.mean = 0;
    cell.variance = 0;
    cell.buffer = [];
    cell.up = 0;
    cell.down = 0;
    cell.upStartMs = NaN;
    cell.downStartMs = NaN;
    cell.cooldown = 0;
    cell.offset = 0;
    cell.offsetN = 0;
    cell.relearning = true;
    cell.frozenSinceMs = NaN;
  }

  #learn(b: Baseline, x: number, transform: FieldTransform): void {
    if (b.buffer !== null) {
      b.buffer.push(x);
      b.n++;
      if (b.n >= this.#warmup) {
        if (transform === 'auto') {
          // Values that all lie in [0, 1] are probabilities: read on the logit scale from now on.
          b.mode = b.buffer.every((v) => v >= 0 && v <= 1) ? 2 : 1;
          if (b.mode === 2) b.buffer = b.buffer.map((v) => transformValue('logit', v));
        }
        const center = median(b.buffer);
        const deviations = b.buffer.map((v) => Math.abs(v - center));
        let scale = 1.4826 * median(deviations);
        if (scale === 0) scale = (1.2533 * deviations.reduce((a, v) => a + v, 0)) / deviations.length;
        // Start the variance where its learning would settle: the deviations winsorised at clipZ
        // scales, not the MAD alone (which is blind to a heavy tail the CUSUM will sum).
        const limit = this.#clipZ * scale;
        let winsorised = 0;
        for (const d of deviations) winsorised += Math.min(d * d, limit * limit);
        b.mean = center;
        b.variance = Math.max(scale * scale, (winsorised / deviations.length) * this.#varianceCorrection);
        b.neff = 0.637 * b.n; // the median's efficiency on Gaussian data
        b.nvar = 0.367 * b.n; // the MAD's
        b.buffer = null;
        derive(b);
      }
      return;
    }
    b.n++;
    const s = b.scale;
    const d = (x - b.mean) / s;
    // The mean learns Huber-clipped deviations (robust); the variance learns deviations clipped
    // where the CUSUM clips them, so the scale is that of the values the CUSUM sums: a key with heavy
    // tails gets a wider scale of its own and one level serves keys of every tail (alarm-level.ts).
    const u = d > this.#learnClip ? this.#learnClip : d < -this.#learnClip ? -this.#learnClip : d;
    const v = d > this.#clipZ ? this.#clipZ : d < -this.#clipZ ? -this.#clipZ : d;
    b.mean += this.#learnRate * u * s;
    b.neff = 1 / (this.#keep2 / b.neff + this.#rate2);
    b.nvar = 1 / (this.#keep2 / b.nvar + this.#rate2);
    b.variance = (1 - this.#learnRate) * b.variance + this.#learnRate * v * v * s * s * this.#varianceCorrection;
    derive(b);
  }

  #keyState(key: string): KeyState {
    let state = this.#keys.get(key);
    if (state !== undefined) {
      state.seen = true;
      return state;
    }
    if (this.#keys.size >= this.#maxKeys) this.#evictOne(this.#keys);
    state = { cells: this.fields.map(() => new Cell()), seen: false };
    this.#keys.set(key, state);
    this.counts.keys = this.#keys.size;
    return state;
  }

  #fallbackOf(key: string): Baseline[] {
    let state = this.#fallbacks.get(key);
    if (state !== undefined) {
      state.seen = true;
      return state.baselines;
    }
    if (this.#fallbacks.size >= this.#maxKeys) this.#evictOne(this.#fallbacks);
    state = { baselines: this.fields.map(() => new Baseline()), seen: false };
    this.#fallbacks.set(key, state);
    return state.baselines;
  }

  /**
   * Second-chance (clock) eviction: the Map's order is the clock; a key seen since the hand last
   * passed goes to the back with its flag cleared, the first one not seen is evicted. Amortised O(1),
   * and no Map churn on the hot path (moving every key to the back on every record cost more than
   * the arithmetic).
   */
  #evictOne(map: Map<string, { seen: boolean }>): void {
    for (const [key, state] of map) {
      map.delete(key);
      if (state.seen) {
        state.seen = false;
        map.set(key, state);
        continue;
      }
      this.counts.evictions++;
      return;
    }
  }

  #noteTime(eventTimeMs: number): void {
    if (Number.isNaN(this.#firstMs)) this.#firstMs = eventTimeMs;
    if (!(eventTimeMs <= this.#lastMs)) this.#lastMs = eventTimeMs;
    const bucket = Math.floor(eventTimeMs / RATE_BUCKET_MS);
    // The level follows the measured rate: refreshed each minute of event time, and at every power of
    // two of the records seen, so that the first minute (which a hot key fills with alarms if its
    // level comes from a rate measured on a handful of records) has a level from a sound rate too.
    const records = this.counts.records + 1;
    const newBucket = !(bucket <= this.#bucket);
    if (newBucket) this.#bucket = bucket;
    if (newBucket || (records & (records - 1)) === 0) {
      if (!('fixed' in this.#levelSpec) && this.#levelSpec.recordsPerHour === undefined) this.#setLevel(this.#budgetLevel(this.recordsPerHour));
    }
  }

  #initialLevel(): number {
    const spec = this.#levelSpec;
    if ('fixed' in spec) return spec.fixed;
    // Before any record: the rate given, or one record per second until one is measured.
    return this.#budgetLevel(spec.recordsPerHour ?? 3600);
  }

  #budgetLevel(recordsPerHour: number): number {
    const spec = this.#levelSpec as Exclude<SketchLevel, { fixed: number }>;
    const arl = targetArl(Math.max(1, recordsPerHour), this.fields.length, spec.falseAlarmsPerHour);
    return alarmLevelFor(arl, this.#k, spec.correction);
  }

  #setLevel(h: number): void {
    this.#h = h;
  }

  /** Plain JSON-safe data: every key's and fallback key's cells, the rate measurement, the counters. */
  snapshot(): Record<string, unknown> {
    const cell = (c: Cell): unknown[] => [c.n, c.mean, c.variance, c.buffer, c.neff, c.nvar, c.mode, c.up, c.down, nanToNull(c.upStartMs), nanToNull(c.downStartMs), c.cooldown, c.offset, c.offsetN, c.relearning, nanToNull(c.frozenSinceMs)];
    const base = (b: Baseline): unknown[] => [b.n, b.mean, b.variance, b.buffer, b.neff, b.nvar, b.mode];
    return {
      keys: [...this.#keys].map(([key, state]) => [key, state.cells.map(cell), state.seen]),
      fallbacks: [...this.#fallbacks].map(([key, state]) => [key, state.baselines.map(base), state.seen]),
      time: [nanToNull(this.#firstMs), nanToNull(this.#lastMs), nanToNull(this.#bucket), this.#h],
      counts: { ...this.counts },
    };
  }

  /** Replaces the state with a snapshot's (written by a table with the same fields). */
  restore(snapshot: Readonly<Record<string, unknown>>): void {
    const keys = snapshot['keys'];
    const fallbacks = snapshot['fallbacks'];
    const time = snapshot['time'];
    const counts = snapshot['counts'] as Partial<SketchCounts> | undefined;
    if (!Array.isArray(keys) || !Array.isArray(fallbacks) || !Array.isArray(time) || typeof counts !== 'object' || counts === null) {
      throw new TypeError('changeSketch: restore() needs { keys, fallbacks, time, counts }');
    }
    const toBaseline = (target: Baseline, data: unknown[]): void => {
      target.n = Number(data[0]);
      target.mean = Number(data[1]);
      target.variance = Number(data[2]);
      target.buffer = Array.isArray(data[3]) ? (data[3] as number[]).map(Number) : null;
    };
    this.#keys.clear();
    this.#fallbacks.clear();
    for (const [key, cells, seen] of keys as [string, unknown[][], unknown][]) {
      if (cells.length !== this.fields.length) throw new RangeError(`changeSketch: snapshot key ${key} has ${cells.length} fields, this sketch watches ${this.fields.length}`);
      this.#keys.set(key, {
        cells: cells.map((data) => {
          const c = new Cell();
          toBaseline(c, data);
          c.neff = Number(data[4]);
          c.nvar = Number(data[5]);
          c.mode = Number(data[6]);
          c.up = Number(data[7]);
          c.down = Number(data[8]);
          c.upStartMs = nullToNan(data[9]);
          c.downStartMs = nullToNan(data[10]);
          c.cooldown = Number(data[11]);
          c.offset = Number(data[12]);
          c.offsetN = Number(data[13]);
          c.relearning = data[14] === true;
          c.frozenSinceMs = nullToNan(data[15]);
          if (c.buffer === null) derive(c);
          return c;
        }),
        seen: seen === true,
      });
    }
    for (const [key, baselines, seen] of fallbacks as [string, unknown[][], unknown][]) {
      this.#fallbacks.set(key, { seen: seen === true, baselines: baselines.map((data) => {
        const b = new Baseline();
        toBaseline(b, data);
        b.neff = Number(data[4]);
        b.nvar = Number(data[5]);
        b.mode = Number(data[6]);
        if (b.buffer === null) derive(b);
        return b;
      }) });
    }
    this.#firstMs = nullToNan(time[0]);
    this.#lastMs = nullToNan(time[1]);
    this.#bucket = nullToNan(time[2]);
    Object.assign(this.counts, counts, { keys: this.#keys.size });
    if (!('fixed' in this.#levelSpec) && typeof time[3] === 'number') this.#setLevel(time[3]);
  }
}

/** A warm baseline's derived figures, from its mean, variance and effective sample sizes. */
function derive(b: Baseline): void {
  // A constant field has scale 0: any change from it is then as far as the clip allows.
  b.scale = Math.sqrt(b.variance) + 1e-9 * (1 + Math.abs(b.mean));
  b.zScale = b.scale * (1 + 2 / Math.sqrt(2 * b.nvar));
  b.guard = 2 / Math.sqrt(b.neff);
}

/** `value` as `baseline` reads it: the field's transform, or for 'auto' the one its warm-up chose (raw until then). */
function transformFor(baseline: Baseline, transform: FieldTransform, value: number): number {
  if (transform !== 'auto') return transformValue(transform, value);
  return baseline.mode === 2 ? transformValue('logit', value) : value;
}

const nanToNull = (x: number): number | null => (Number.isNaN(x) ? null : x);
const nullToNan = (x: unknown): number => (x === null || x === undefined ? NaN : Number(x));
