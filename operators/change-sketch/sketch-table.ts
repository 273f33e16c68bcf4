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
 * 5. Relative keys (`relativeToFallback`): a key slower than the peer window and a minor share of its
 *    fallback's mean learns and is scored on its value minus its model's common level: a robust
 *    estimate (median, then one Huber step) over the other keys of the fallback key of their level (each
 *    one's decaying share of the fallback's mean) less their usual offset from it. A cycle common to
 *    the model moves it; one key's own incident or drift does not. With fewer than 3 such peers the
 *    key is its own reference.
 * 6. Peer check (`peerWindowMs`): an alarmed half is not reported while most of the fallback's other
 *    keys with recent values show the same shift (recent mean beyond k, or a half above h/4): it is
 *    common to them (counted in `commonEpisodes`). Persistence (`minEpisodeMs`): a half is reported once
 *    its shift has been the key's own that long, from the CUSUM's change point (its last zero).
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
  /**
   * A key's own baseline is of its values minus its fallback key's current mean (its level relative to
   * its model's), when the fallback is warm as the key starts to learn. Default true.
   */
  readonly relativeToFallback?: boolean;
  /**
   * Time constant (event time, ms) of the recent level that the peer check compares: an alarm whose
   * shift most of the other keys of its fallback key share (same field, same direction, at the same
   * time) is common to them, not the key's own, and is not reported. 0: no peer check. Default 60 000.
   */
  readonly peerWindowMs?: number;
  /** An episode is reported once it has been the key's own for this long (event time, ms). Default 0. */
  readonly minEpisodeMs?: number;
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
  /** Episodes found common to the keys of one fallback key (a model-wide shift), not reported as the key's. */
  commonEpisodes: number;
}

const MS_PER_HOUR = 3_600_000;
const RATE_BUCKET_MS = 60_000;
/** The rate is measured over at least this much event time (the first record alone says little). */
const MIN_RATE_SPAN_MS = 1000;
/**
 * The reference of a relative key is a median over its peers: with fewer usable peers than this, one
 * peer's own incident could move it, so the key keeps its last reference (it reads against its own level).
 */
const MIN_REFERENCE_PEERS = 3;
/** A peer's level counts for the reference while its latest value is at most this many peer windows old. */
const REFERENCE_AGE_WINDOWS = 5;
/** A peer's offset from the common level learns with this time constant (peer windows of event time), at most every PEER_OFFSET_EVERY of a window. */
const PEER_OFFSET_WINDOWS = 10;
const PEER_OFFSET_EVERY = 1 / 6;
/** The robust common level clips each peer's level at this many of its standard errors from the peers' median. */
const REFERENCE_CLIP = 2;
/**
 * A key reads against the other keys while its share of its fallback's mean is below RELATIVE_BELOW
 * and against its own level once it is above ABSOLUTE_ABOVE (the gap keeps it from flapping).
 */
const RELATIVE_BELOW = 0.4;
const ABSOLUTE_ABOVE = 0.6;
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
  /**
   * The baseline is of the value minus its fallback key's current mean (the key's level relative to
   * its model's), not of the value: set when the cell starts to learn while its fallback is warm.
   */
  relative = false;
  /**
   * This key's share of its fallback's mean: the weighted sum of the (clipped) values it taught it and
   * their total weight, as of the fallback's `shareAt`-th learnt value (both decay by 1 − learnRate
   * per value the fallback learns). The fallback's mean without them is the level of the other keys.
   */
  shareSum = 0;
  shareWeight = 0;
  /** The sum of the squared weights (decaying by (1 − learnRate)² per value): the share's effective sample is shareWeight² / shareSq. */
  shareSq = 0;
  shareAt = 0;
  /** The reference the cell was last read against (held while the other keys are too few to give one). */
  reference = NaN;
  /** That reference's variance (in its own units), for the guard band. */
  referenceVariance = 0;
  /**
   * This key's level minus the model's common level (the median over its peers), learnt slowly while
   * its baseline learns: a peer's level minus its offset is its estimate of the common level. NaN: unset.
   */
  peerOffset = NaN;
  peerOffsetAtMs = NaN;
  /** Recent values (z, clipped), exponentially weighted in event time: sum and weight, as of the key's last record. */
  zs = 0;
  zw = 0;
  /** Event time of the last record at which the up / down half was 0: the change point the CUSUM estimates. */
  upZeroMs = NaN;
  downZeroMs = NaN;
  /** Event time from which the up / down episode is the key's own: its change point, or the last record at which its model's other segments shared it. */
  upOwnMs = NaN;
  downOwnMs = NaN;
  /** When the last up / down episode ended, and the event time it was the key's own from (a renewal soon after continues it). */
  upEndMs = NaN;
  downEndMs = NaN;
  upChainMs = NaN;
  downChainMs = NaN;
  /** The episode was found common to the model at some record (counted once). */
  upCommon = false;
  downCommon = false;
}

interface KeyState {
  readonly cells: Cell[];
  /** Seen since the eviction clock last passed it (second-chance eviction). */
  seen: boolean;
  /** Event time of its latest record (the recent values' decay runs from it); NaN before any. */
  lastMs: number;
  /** The fallback key it last came with, and that key's state (whose members it is among). */
  fallbackKey: string | undefined;
  fallback: FallbackState | undefined;
  /** The level factors per field as read at `scalesVersion` (with `levelScales` only). */
  scales?: Float64Array;
  scalesVersion?: number;
}

interface FallbackState {
  readonly baselines: Baseline[];
  seen: boolean;
  /** The keys that came with it last (a model's segments): its peers for the common-shift check. */
  readonly members: KeyState[];
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
  /** ln(1 − learnRate): a share's decay per value its fallback learns. */
  readonly #logKeep: number;
  readonly #rate2: number;
  readonly #learnClip: number;
  readonly #varianceCorrection: number;
  readonly #warmup: number;
  readonly #cooldown: number;
  readonly #capFactor: number;
  readonly #offsetRate: number;
  readonly #relearnAfterMs: number;
  readonly #maxKeys: number;
  readonly #relativeToFallback: boolean;
  readonly #peerMs: number;
  readonly #minEpisodeMs: number;
  readonly #levelSpec: SketchLevel;
  readonly #levelScales: LevelScales | undefined;
  readonly #keys = new Map<string, KeyState>();
  readonly #fallbacks = new Map<string, FallbackState>();
  readonly counts: SketchCounts = { records: 0, episodes: 0, relearns: 0, evictions: 0, keys: 0, commonEpisodes: 0 };
  #h = 0;
  /** Scratch for #commonLevel: the peers' levels, and the variance of their median. */
  readonly #scratch: number[] = [];
  readonly #scratchVariances: number[] = [];
  readonly #scratchSorted: number[] = [];
  #commonVariance = 0;
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
    this.#logKeep = Math.log1p(-this.#learnRate);
    this.#rate2 = this.#learnRate ** 2;
    this.#learnClip = options.learnClip ?? 2;
    this.#varianceCorrection = 1 / clippedSecondMoment(this.#clipZ);
    this.#warmup = options.warmupPoints ?? 50;
    this.#cooldown = options.cooldownPoints ?? 20;
    this.#capFactor = options.capFactor ?? 1.25;
    this.#offsetRate = options.offsetRate ?? 0.05;
    this.#relearnAfterMs = options.relearnAfterMs ?? 2 * MS_PER_HOUR;
    this.#maxKeys = options.maxKeys ?? 100_000;
    this.#relativeToFallback = options.relativeToFallback ?? true;
    this.#peerMs = options.peerWindowMs ?? 60_000;
    this.#minEpisodeMs = options.minEpisodeMs ?? 0;
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
    const fallbackState = fallbackKey === undefined ? undefined : this.#fallbackOf(fallbackKey);
    const fallback = fallbackState?.baselines;
    if (fallbackState !== state.fallback) this.#join(state, fallbackKey, fallbackState);
    const decay = this.#peerMs > 0 && !Number.isNaN(state.lastMs) ? Math.exp(-Math.max(0, eventTimeMs - state.lastMs) / this.#peerMs) : 0;
    if (!(eventTimeMs <= state.lastMs)) state.lastMs = eventTimeMs;
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
      cell.zs *= decay;
      cell.zw *= decay;
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
      // A relative cell reads its value against its fallback's current mean: a level that moves for the
      // whole model (a daily cycle, a drift of every segment) moves the reference too, at the pace of the
      // model's traffic rather than of this key's. Not scored while the fallback is missing or cold.
      const baseWarm = base !== undefined && base.buffer === null && !Number.isNaN(xb);
      // The common level now (NaN: too few peers to give one; the cell reads against its last reference
      // for this record and then becomes its own reference, below).
      const common = cell.relative && baseWarm ? this.#reference(state, cell, i, base, eventTimeMs) : NaN;
      const v = cell.relative ? xb - cell.reference : x;
      if (cell.buffer === null) {
        if (Number.isNaN(v)) continue;
        z = (v - cell.mean) / cell.zScale;
        guard = cell.relative ? 2 * Math.sqrt(1 / cell.neff + cell.referenceVariance / (cell.scale * cell.scale)) : cell.guard;
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
        cell.zs += zc;
        cell.zw += 1;
        if (cell.up === 0 || Number.isNaN(cell.upZeroMs)) cell.upZeroMs = eventTimeMs;
        if (cell.down === 0 || Number.isNaN(cell.downZeroMs)) cell.downZeroMs = eventTimeMs;
        cell.up = Math.min(cap, Math.max(0, cell.up + zc - k));
        cell.down = Math.min(cap, Math.max(0, cell.down - zc - k));
        const upAlarm = this.#step(cell, 'up', eventTimeMs, h) && this.#report(cell, 'up', i, state, eventTimeMs, h);
        const downAlarm = this.#step(cell, 'down', eventTimeMs, h) && this.#report(cell, 'down', i, state, eventTimeMs, h);
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
      if (baseWarm) this.#decayShare(cell, base);
      if (!cell.relative && baseWarm && this.#relativeToFallback && this.#slow(cell, RELATIVE_BELOW) && (cell.n === 0 || (cell.buffer === null && (transform !== 'auto' || cell.mode === base.mode)))) {
        // From now on relative to the other keys, once they give a reference: a new cell from its first
        // value; a warm one (it began before its fallback was warm, or its share fell) keeps its level,
        // restated against the reference.
        const common = this.#reference(state, cell, i, base, eventTimeMs);
        if (!Number.isNaN(common)) {
          cell.relative = true;
          if (cell.n > 0) cell.mean -= common;
        }
      } else if (cell.relative && baseWarm && cell.buffer === null && (Number.isNaN(common) || !this.#slow(cell, ABSOLUTE_ABOVE))) {
        // A key that has become busy (or most of its fallback's traffic) is its own reference: its
        // baseline follows a slow change itself, and the other keys would only add their noise. So is
        // one whose peers are too few to give a robust reference (a held reference would go stale).
        cell.mean += cell.reference;
        cell.relative = false;
        cell.reference = NaN;
      }
      if (cell.relative) {
        if (baseWarm) this.#learn(cell, xb - cell.reference, 'identity');
      } else if (!Number.isNaN(x)) this.#learn(cell, x, transform);
      if (baseWarm && this.#relativeToFallback) this.#learnPeerOffset(state, cell, i, base, eventTimeMs);
      if (cell.relearning && cell.buffer === null) cell.relearning = false;
      if (base !== undefined && !Number.isNaN(xb)) {
        if (baseWarm) {
          // The value as the fallback's mean learns it (clipped at learnClip scales), and its weight.
          const d = (xb - base.mean) / base.scale;
          const taught = base.mean + (d > this.#learnClip ? this.#learnClip : d < -this.#learnClip ? -this.#learnClip : d) * base.scale;
          this.#decayShare(cell, base);
          cell.shareSum = (1 - this.#learnRate) * cell.shareSum + this.#learnRate * taught;
          cell.shareWeight = (1 - this.#learnRate) * cell.shareWeight + this.#learnRate;
          cell.shareSq = this.#keep2 * cell.shareSq + this.#rate2;
          cell.shareAt = base.n + 1;
        }
        this.#learn(base, xb, transform);
      }
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
      // The episode's own time runs from the change point the CUSUM estimates (its last zero), not from
      // the crossing: a key with few records crosses h long after its shift began.
      // A renewal within minEpisodeMs of the previous episode's end is the same shift going on (the
      // half restarted from 0 when a few values dipped): it keeps the time it has been going on.
      if (direction === 'up') {
        cell.upStartMs = eventTimeMs;
        cell.upOwnMs = eventTimeMs - cell.upEndMs <= this.#minEpisodeMs ? cell.upChainMs : cell.upZeroMs;
      } else {
        cell.downStartMs = eventTimeMs;
        cell.downOwnMs = eventTimeMs - cell.downEndMs <= this.#minEpisodeMs ? cell.downChainMs : cell.downZeroMs;
      }
      return true;
    }
    if (value >= h) return true;
    // The episode ends: the half restarts from 0, the baseline waits out the cool-down.
    if (direction === 'up') {
      cell.up = 0;
      cell.upEndMs = eventTimeMs;
      cell.upChainMs = cell.upOwnMs;
      cell.upStartMs = cell.upOwnMs = NaN;
      cell.upCommon = false;
    } else {
      cell.down = 0;
      cell.downEndMs = eventTimeMs;
      cell.downChainMs = cell.downOwnMs;
      cell.downStartMs = cell.downOwnMs = NaN;
      cell.downCommon = false;
    }
    cell.cooldown = this.#cooldown;
    return false;
  }

  /**
   * Whether an alarmed half is reported on this record: not while most of the key's peers (the other
   * keys of its fallback key, e.g. the model's other segments) show the same shift of the same field
   * — a shift common to the model is not this key's — and only once the episode has been the key's own
   * for `minEpisodeMs` of event time (from its start, or from the last record at which it was common).
   */
  #report(cell: Cell, direction: AlarmDirection, field: number, state: KeyState, eventTimeMs: number, h: number): boolean {
    const up = direction === 'up';
    if (this.#peerMs > 0 && state.fallback !== undefined && this.#sharedByPeers(state, field, up, eventTimeMs, h)) {
      if (up) {
        if (!cell.upCommon) this.counts.commonEpisodes++;
        cell.upCommon = true;
        cell.upOwnMs = eventTimeMs;
      } else {
        if (!cell.downCommon) this.counts.commonEpisodes++;
        cell.downCommon = true;
        cell.downOwnMs = eventTimeMs;
      }
      return false;
    }
    return eventTimeMs - (up ? cell.upOwnMs : cell.downOwnMs) >= this.#minEpisodeMs;
  }

  /**
   * Most peers that have had values lately (weight ≥ 1 within the window, or a half above h/4) are
   * shifted the same way: a half above h/4, or a recent mean beyond k by two standard errors.
   */
  #sharedByPeers(state: KeyState, field: number, up: boolean, eventTimeMs: number, h: number): boolean {
    let eligible = 0;
    let shifted = 0;
    const sign = up ? 1 : -1;
    // A peer is shifted when its recent mean (shrunk toward 0 by one value's weight, so that one or two
    // values say little) is beyond k, half the shift the CUSUM is tuned to.
    const threshold = this.#k;
    for (const peer of state.fallback!.members) {
      if (peer === state) continue;
      const age = Math.max(0, eventTimeMs - peer.lastMs);
      if (!(age <= 3 * this.#peerMs)) continue;
      const cell = peer.cells[field]!;
      const suspicious = age <= this.#peerMs && (up ? cell.up : cell.down) >= h / 4;
      const d = Math.exp(-age / this.#peerMs);
      const w = cell.zw * d;
      if (w < 1 && !suspicious) continue;
      eligible++;
      if (suspicious || (sign * cell.zs * d) / (w + 1) >= threshold) shifted++;
    }
    return shifted > 0 && 2 * shifted > eligible;
  }

  /** Makes `state` a member of `fallback` (and no longer of the one it came with before). */
  #join(state: KeyState, fallbackKey: string | undefined, fallback: FallbackState | undefined): void {
    state.fallback?.members.splice(state.fallback.members.indexOf(state) >>> 0, 1);
    state.fallback = fallback;
    state.fallbackKey = fallbackKey;
    fallback?.members.push(state);
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
    cell.relative = false;
    cell.reference = NaN;
    cell.referenceVariance = 0;
    cell.upOwnMs = cell.downOwnMs = cell.upZeroMs = cell.downZeroMs = NaN;
    cell.upEndMs = cell.downEndMs = cell.upChainMs = cell.downChainMs = NaN;
    cell.upCommon = cell.downCommon = false;
  }

  /**
   * Whether a key is slow enough to read against the other keys: its share of its fallback's mean is
   * below `factor`, and (with a peer window) its own baseline learns slower than the window, i.e. it has
   * fewer than `factor` / learnRate × 1.75 values per window (hysteresis: 0.4 in, 0.6 out → 70 and 105
   * at the default rate).
   */
  #slow(cell: Cell, factor: number): boolean {
    return cell.shareWeight < factor && (this.#peerMs === 0 || cell.zw < (1.75 * factor) / this.#learnRate);
  }

  /** Decays the cell's share of `base`'s mean to the values `base` has learnt since. */
  #decayShare(cell: Cell, base: Baseline): void {
    const steps = base.n - cell.shareAt;
    if (steps > 0) {
      const keep = Math.exp(steps * this.#logKeep);
      cell.shareSum *= keep;
      cell.shareWeight *= keep;
      cell.shareSq *= keep * keep;
      cell.shareAt = base.n;
    }
  }

  /**
   * The model's common level as the key's peers show it (#commonLevel), or NaN when they are too few
   * to give one. When there is one it becomes the cell's reference (and its variance the reference's).
   */
  #reference(state: KeyState, cell: Cell, field: number, base: Baseline, eventTimeMs: number): number {
    const common = this.#commonLevel(state, field, base, eventTimeMs);
    if (!Number.isNaN(common)) {
      cell.reference = common;
      cell.referenceVariance = this.#commonVariance;
    }
    return common;
  }

  /**
   * The model's common level as `state`'s peers show it: the median, over the other keys of its
   * fallback key that are warm and have had a value within REFERENCE_AGE_WINDOWS peer windows, of
   * their level (their baseline's mean, on the fallback's scale) minus their offset from the common
   * level. A median, not the traffic-weighted mean of their values: one peer's own incident (or the
   * drift of the biggest segment) cannot move it; an alarmed peer's frozen baseline counts as its level
   * before the shift. NaN with fewer than MIN_REFERENCE_PEERS such peers. Leaves the median's variance
   * (π/2 × the peers' mean squared standard error / their number) in #commonVariance.
   */
  #commonLevel(state: KeyState, field: number, base: Baseline, eventTimeMs: number): number {
    const levels = this.#scratch;
    const variances = this.#scratchVariances;
    levels.length = 0;
    variances.length = 0;
    const maxAge = REFERENCE_AGE_WINDOWS * (this.#peerMs > 0 ? this.#peerMs : 60_000);
    for (const peer of state.fallback!.members) {
      if (peer === state || !(eventTimeMs - peer.lastMs <= maxAge)) continue;
      const cell = peer.cells[field]!;
      this.#decayShare(cell, base);
      if (!(cell.shareWeight > 0)) continue;
      const level = cell.shareSum / cell.shareWeight;
      if (Number.isNaN(cell.peerOffset)) {
        cell.peerOffset = level - base.mean;
        cell.peerOffsetAtMs = eventTimeMs;
      }
      levels.push(level - cell.peerOffset);
      variances.push((base.variance * cell.shareSq) / (cell.shareWeight * cell.shareWeight));
    }
    const m = levels.length;
    if (m < MIN_REFERENCE_PEERS) return NaN;
    const sorted = this.#scratchSorted;
    sorted.length = 0;
    for (const y of levels) sorted.push(y);
    sorted.sort((x, y) => x - y);
    const mid = m >> 1;
    const med = m % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    // One step of a Huber M-estimate from the median: the precision-weighted mean of the peers' levels,
    // each clipped to within REFERENCE_CLIP of its standard errors of the median. A peer in agreement
    // counts with its full precision (the estimate is as precise as the pooled level of the others);
    // one that is off (its own incident, the drift of the biggest segment) moves it by at most
    // REFERENCE_CLIP of its own standard errors × its share of the precision.
    let sum = 0;
    let weight = 0;
    for (let j = 0; j < m; j++) {
      const w = 1 / variances[j]!;
      const limit = REFERENCE_CLIP * Math.sqrt(variances[j]!);
      const d = levels[j]! - med;
      sum += w * (d > limit ? limit : d < -limit ? -limit : d);
      weight += w;
    }
    this.#commonVariance = 1 / weight;
    return med + sum / weight;
  }

  /**
   * Learns the cell's offset from its model's common level (its level minus the median of its peers'),
   * slowly in event time and only while its baseline learns, so that the peers' estimates of the common
   * level agree, and a segment's own slow change joins its offset rather than the others' reference.
   */
  #learnPeerOffset(state: KeyState, cell: Cell, field: number, base: Baseline, eventTimeMs: number): void {
    const windowMs = this.#peerMs > 0 ? this.#peerMs : 60_000;
    const since = eventTimeMs - cell.peerOffsetAtMs;
    if (since < PEER_OFFSET_EVERY * windowMs) return;
    this.#decayShare(cell, base);
    if (!(cell.shareWeight > 0)) return;
    const level = cell.shareSum / cell.shareWeight;
    const common = this.#commonLevel(state, field, base, eventTimeMs);
    if (Number.isNaN(common)) return;
    if (Number.isNaN(cell.peerOffset)) cell.peerOffset = level - common;
    else cell.peerOffset += (1 - Math.exp(-since / (PEER_OFFSET_WINDOWS * windowMs))) * (level - common - cell.peerOffset);
    cell.peerOffsetAtMs = eventTimeMs;
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
    if (this.#keys.size >= this.#maxKeys) {
      const evicted = this.#evictOne(this.#keys);
      if (evicted !== undefined) this.#join(evicted, undefined, undefined);
    }
    state = { cells: this.fields.map(() => new Cell()), seen: false, lastMs: NaN, fallbackKey: undefined, fallback: undefined };
    this.#keys.set(key, state);
    this.counts.keys = this.#keys.size;
    return state;
  }

  #fallbackOf(key: string): FallbackState {
    let state = this.#fallbacks.get(key);
    if (state !== undefined) {
      state.seen = true;
      return state;
    }
    if (this.#fallbacks.size >= this.#maxKeys) this.#evictOne(this.#fallbacks);
    state = { baselines: this.fields.map(() => new Baseline()), seen: false, members: [] };
    this.#fallbacks.set(key, state);
    return state;
  }

  /**
   * Second-chance (clock) eviction: the Map's order is the clock; a key seen since the hand last
   * passed goes to the back with its flag cleared, the first one not seen is evicted. Amortised O(1),
   * and no Map churn on the hot path (moving every key to the back on every record cost more than
   * the arithmetic).
   */
  #evictOne<S extends { seen: boolean }>(map: Map<string, S>): S | undefined {
    for (const [key, state] of map) {
      map.delete(key);
      if (state.seen) {
        state.seen = false;
        map.set(key, state);
        continue;
      }
      this.counts.evictions++;
      return state;
    }
    return undefined;
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
    const cell = (c: Cell): unknown[] => [c.n, c.mean, c.variance, c.buffer, c.neff, c.nvar, c.mode, c.up, c.down, nanToNull(c.upStartMs), nanToNull(c.downStartMs), c.cooldown, c.offset, c.offsetN, c.relearning, nanToNull(c.frozenSinceMs), c.relative, c.zs, c.zw, nanToNull(c.upOwnMs), nanToNull(c.downOwnMs), c.upCommon, c.downCommon, nanToNull(c.upZeroMs), nanToNull(c.downZeroMs), c.shareSum, c.shareWeight, c.shareAt, nanToNull(c.reference), nanToNull(c.upEndMs), nanToNull(c.downEndMs), nanToNull(c.upChainMs), nanToNull(c.downChainMs), c.referenceVariance, nanToNull(c.peerOffset), nanToNull(c.peerOffsetAtMs), c.shareSq];
    const base = (b: Baseline): unknown[] => [b.n, b.mean, b.variance, b.buffer, b.neff, b.nvar, b.mode];
    return {
      keys: [...this.#keys].map(([key, state]) => [key, state.cells.map(cell), state.seen, nanToNull(state.lastMs), state.fallbackKey ?? null]),
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
    for (const [key, cells, seen, lastMs, fallbackKey] of keys as [string, unknown[][], unknown, unknown, unknown][]) {
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
          c.relative = data[16] === true;
          c.zs = Number(data[17] ?? 0);
          c.zw = Number(data[18] ?? 0);
          c.upOwnMs = data.length > 19 ? nullToNan(data[19]) : c.upStartMs;
          c.downOwnMs = data.length > 20 ? nullToNan(data[20]) : c.downStartMs;
          c.upCommon = data[21] === true;
          c.downCommon = data[22] === true;
          c.upZeroMs = nullToNan(data[23]);
          c.downZeroMs = nullToNan(data[24]);
          c.shareSum = Number(data[25] ?? 0);
          c.shareWeight = Number(data[26] ?? 0);
          c.shareAt = Number(data[27] ?? 0);
          c.reference = nullToNan(data[28]);
          c.upEndMs = nullToNan(data[29]);
          c.downEndMs = nullToNan(data[30]);
          c.upChainMs = nullToNan(data[31]);
          c.downChainMs = nullToNan(data[32]);
          c.referenceVariance = Number(data[33] ?? 0);
          c.peerOffset = nullToNan(data[34]);
          c.peerOffsetAtMs = nullToNan(data[35]);
          c.shareSq = Number(data[36] ?? 0);
          if (c.buffer === null) derive(c);
          return c;
        }),
        seen: seen === true,
        lastMs: nullToNan(lastMs),
        fallbackKey: typeof fallbackKey === 'string' ? fallbackKey : undefined,
        fallback: undefined,
      });
    }
    for (const [key, baselines, seen] of fallbacks as [string, unknown[][], unknown][]) {
      this.#fallbacks.set(key, { seen: seen === true, members: [], baselines: baselines.map((data) => {
        const b = new Baseline();
        toBaseline(b, data);
        b.neff = Number(data[4]);
        b.nvar = Number(data[5]);
        b.mode = Number(data[6]);
        if (b.buffer === null) derive(b);
        return b;
      }) });
    }
    // Each key rejoins the fallback key it came with (its peers).
    for (const state of this.#keys.values()) {
      const fallback = state.fallbackKey === undefined ? undefined : this.#fallbacks.get(state.fallbackKey);
      if (fallback !== undefined) this.#join(state, state.fallbackKey, fallback);
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
