/**
 * robustZScore — a cheap outlier score for every record, to tell a sampler which records look
 * interesting: the largest |z| of the record's fields against a slow, outlier-clipped exponentially
 * weighted mean and variance kept per key × field. A few multiplications per field; it is not a
 * detector (no threshold, no alarms), only a ranking for `adaptiveSample`'s `scoreOf`.
 *
 * ```
 * input:   --a(lat=100)--b(lat=101)-- … --x(lat=180)--|
 * output:  --{a, 0}------{b, 0}------ … --{x, 7.9}----|    0 until the key has warmed up
 * ```
 *
 * A key that has not warmed up yet is scored against its fallback key (`fallbackKeyOf`, e.g. the
 * model over all its segments), which learns every record too. The arithmetic and why it is slow and
 * clipped: `robust-z-score/robust-moments.ts`.
 *
 * State: per key and per fallback key, a mean, a variance and a count per field (bounded: `maxKeys`,
 * the least recently seen forgotten); per subscription, not snapshotted (it relearns in
 * `warmupPoints` records).
 * Delivery: one record out per record in, in order, with its settlement; never settles, drops or
 * reorders. A `keyOf` or `valueOf` that throws errors the stream.
 *
 * @example
 * ```ts
 * input.step('preliminary-score', robustZScore<Request>({
 *   keyOf: (r) => `${r.service}\u0000${r.route}`,
 *   fallbackKeyOf: (r) => r.service,
 *   fields: [{ name: 'latency_ms', valueOf: (r) => r.latencyMs }],
 * }));
 * ```
 */
import { defer, map, type OperatorFunction } from 'rxjs';
import { withValue, type Envelope } from '../core/envelope.js';
import { checkFields, checkFunction, checkInteger, checkNumber } from './options.js';
import { RobustMoments } from './robust-z-score/robust-moments.js';

export { RobustMoments, type RobustMomentsOptions } from './robust-z-score/robust-moments.js';

const OP = 'robustZScore';

/** One scored field: its name (unique) and how to read it from a record. */
export interface ZScoreField<T> {
  readonly name: string;
  /** The value; undefined or non-finite: the field is skipped for this record. */
  readonly valueOf: (record: T) => number | undefined;
}

/** A record and its score. */
export interface ZScored<T> {
  readonly record: T;
  /** The largest |z| of its fields against its key's moments before it (0 while the key and its fallback warm up). */
  readonly score: number;
}

export interface RobustZScoreOptions<T> {
  /** The key whose moments score a record (e.g. model × segment). Required. */
  readonly keyOf: (record: T) => string;
  /** A coarser key (e.g. the model) that scores a record while its own key warms up. Default: none. */
  readonly fallbackKeyOf?: (record: T) => string;
  /** The fields scored, 1 to 64. Required. */
  readonly fields: readonly ZScoreField<T>[];
  /** Weight of each new point in the mean and variance, (0, 1). Default 0.005 (a memory of ~200 points). */
  readonly alpha?: number;
  /** Points a key learns before it scores, [1, 1 000 000]. Default 20. */
  readonly warmupPoints?: number;
  /** After warm-up, a point's deviation is clipped to this many standard deviations before it is learnt, (0, 100]. Default 2. */
  readonly clipSigmas?: number;
  /** Keys held (own and fallback together), [1, 10 000 000]. Default 100 000. */
  readonly maxKeys?: number;
}

/** Scores every record by its largest robust |z| per key (see the file's comment). */
export function robustZScore<T>(options: RobustZScoreOptions<T>): OperatorFunction<Envelope<T>, Envelope<ZScored<T>>> {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${OP}: options are required`);
  checkFunction(OP, 'keyOf', options.keyOf, true);
  checkFunction(OP, 'fallbackKeyOf', options.fallbackKeyOf, false);
  checkFields(OP, options.fields, 64);
  const momentsOptions = {
    fieldCount: options.fields.length,
    alpha: checkNumber(OP, 'alpha', options.alpha ?? 0.005, 0, 1, true),
    warmupPoints: checkInteger(OP, 'warmupPoints', options.warmupPoints ?? 20, 1, 1_000_000),
    clipSigmas: checkNumber(OP, 'clipSigmas', options.clipSigmas ?? 2, 0, 100, true),
    maxKeys: checkInteger(OP, 'maxKeys', options.maxKeys ?? 100_000, 1, 10_000_000),
  };
  if (momentsOptions.alpha === 1) throw new RangeError(`${OP}: option 'alpha' must be a number in (0, 1), got 1`);
  const { keyOf, fallbackKeyOf } = options;
  const readers = options.fields.map((field) => field.valueOf);

  return (source) =>
    defer(() => {
      const moments = new RobustMoments(momentsOptions);
      return source.pipe(
        map((envelope: Envelope<T>) => {
          const record = envelope.value;
          const score = moments.score(keyOf(record), fallbackKeyOf?.(record), readers.map((valueOf) => valueOf(record)));
          return withValue(envelope, { record, score });
        }),
      );
    });
}
