/**
 * backgroundRate — keeps a count of findings only when it is more than its key produces anyway.
 *
 * A busy key shows a few outliers in every window; a rare key with a real incident may show two or
 * three records in all. `note()` counts, per key and event-time window, the records and the signals
 * they show (a signal is what a finding is about, e.g. field × direction); `keepSurprising()` keeps a
 * record (e.g. a windowed mention) whose k findings of a signal over its window and the
 * `lookbackWindows` − 1 before it are unlikely under its key's background rate p0 learnt before those
 * windows: P(X ≥ k) < `alpha` for X ~ Poisson(n · p0), n the key's records over those windows. A key
 * with little history borrows the signal's rate over all keys (weighted as `priorRecords` records).
 * The counting: `background-rate/background-table.ts`.
 *
 * ```
 * note:            --r(k1: HIGH)--r(k1)--r(k2: HIGH)-- … (every record, with its signals)
 * keepSurprising:  --m(k1 HIGH ×1)--m(k2 HIGH ×3)--|
 *                  -----------------m(k2 HIGH ×3)--|    k1 shows one HIGH a window anyway: dropped
 * ```
 *
 * State: counts per key × window and key × signal × window for the latest `keepWindows` windows,
 * running totals per key and key × signal (bounded: `maxKeys`, least recently used evicted) and per
 * signal; shared by the pair (and every subscription of either), not per subscription; not snapshotted.
 * Delivery: `note()` passes every record on unchanged, in order; `keepSurprising()` passes the
 * surprising ones in order and settles the others as dropped. A callback that throws errors the stream.
 *
 * @example
 * ```ts
 * const background = backgroundRate({ windowMs: 60_000, alpha: 1e-3, minEvents: 2 });
 * detections.step('note-background', background.note((d: Detection) => ({ key: d.service, signals: d.findings.map((f) => f.field) })))
 *   .step('dedup', dedup)
 *   .step('min-evidence', background.keepSurprising((m: Mention) => ({ key: m.service, signal: m.field, windowStartMs: m.windowStartMs, count: m.events })));
 * ```
 */
import { filter, tap, type OperatorFunction } from 'rxjs';
import { dropRecord, type Envelope } from '../core/envelope.js';
import { BackgroundTable } from './background-rate/background-table.js';
import { checkFunction, checkInteger, checkNumber } from './options.js';

export { BackgroundTable, type BackgroundEvidence, type BackgroundTableOptions } from './background-rate/background-table.js';
export { poissonUpperTail } from './background-rate/poisson.js';

const OP = 'backgroundRate';

export interface BackgroundRateOptions {
  /** Tumbling event-time window of the counts, ms (the window of the records `keepSurprising` judges), [1, 10^12]. Required. */
  readonly windowMs: number;
  /** Chance of the count under the background below which a record is kept, (0, 1] (1: keeps all with `minEvents`). Required. */
  readonly alpha: number;
  /** Findings a kept record's evidence must hold at least, [1, 10^9]. Default 1. */
  readonly minEvents?: number;
  /** Weight of the all-keys rate of a signal in a key's background rate, in records, (0, 10^9]. Default 50. */
  readonly priorRecords?: number;
  /** Windows (the record's and the ones before it) whose findings count as one body of evidence, [1, keepWindows]. Default 5. */
  readonly lookbackWindows?: number;
  /** Windows of counts kept, [1, 10 000]. Default 64. */
  readonly keepWindows?: number;
  /** Keys (and key × signal totals, and signals) held, [1, 10^7]. Default 100 000. */
  readonly maxKeys?: number;
}

/** What `note()` learns from a record: its key and the signals it shows (none: a clean record, counted too). */
export interface BackgroundObservation {
  readonly key: string;
  readonly signals: readonly string[];
}

/** What `keepSurprising()` asks of a record: its key, signal, window, and the findings it counts in that window. */
export interface BackgroundQuery {
  readonly key: string;
  readonly signal: string;
  /** Start of the record's window, ms (any time inside it will do). */
  readonly windowStartMs: number;
  /** Findings the record counts in its window (a floor on the window's noted findings). */
  readonly count: number;
}

/** The two ends of one background: records are noted upstream, and judged downstream. */
export interface BackgroundRate {
  /** Notes each record at its event time (`observe` → undefined: not noted); passes every record on unchanged. */
  note<T>(observe: (value: T) => BackgroundObservation | undefined): OperatorFunction<Envelope<T>, Envelope<T>>;
  /** Keeps the records whose evidence is surprising (`queryOf` → undefined: kept untested); the others settle as dropped. */
  keepSurprising<T>(queryOf: (value: T) => BackgroundQuery | undefined): OperatorFunction<Envelope<T>, Envelope<T>>;
  /** The counts behind both (for reports and tests). */
  readonly table: BackgroundTable;
}

/** A background of findings per key, noted at one point of a chain and judged at a later one (see the file's comment). */
export function backgroundRate(options: BackgroundRateOptions): BackgroundRate {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${OP}: options are required`);
  const keepWindows = checkInteger(OP, 'keepWindows', options.keepWindows ?? 64, 1, 10_000);
  const table = new BackgroundTable({
    windowMs: checkInteger(OP, 'windowMs', options.windowMs, 1, 1e12),
    alpha: checkNumber(OP, 'alpha', options.alpha, 0, 1, true),
    priorRecords: checkNumber(OP, 'priorRecords', options.priorRecords ?? 50, 0, 1e9, true),
    lookbackWindows: checkInteger(OP, 'lookbackWindows', options.lookbackWindows ?? 5, 1, keepWindows),
    keepWindows,
    maxKeys: checkInteger(OP, 'maxKeys', options.maxKeys ?? 100_000, 1, 10_000_000),
  });
  const minEvents = checkInteger(OP, 'minEvents', options.minEvents ?? 1, 1, 1e9);
  return {
    note: <T>(observe: (value: T) => BackgroundObservation | undefined) => {
      checkFunction(OP, 'note(observe)', observe, true);
      return tap((envelope: Envelope<T>) => {
        const observation = observe(envelope.value);
        if (observation !== undefined) table.note(observation.key, envelope.eventTimeMs, observation.signals);
      });
    },
    keepSurprising: <T>(queryOf: (value: T) => BackgroundQuery | undefined) => {
      checkFunction(OP, 'keepSurprising(queryOf)', queryOf, true);
      return filter((envelope: Envelope<T>) => {
        const query = queryOf(envelope.value);
        const keep = query === undefined || table.surprising(query.key, query.signal, query.windowStartMs, query.count, minEvents);
        if (!keep) dropRecord(envelope);
        return keep;
      });
    },
    table,
  };
}
