/**
 * parallelDetect: runs every detector on each record, up to `concurrency` records at once (mergeMap
 * with an explicit bound, never Infinity), and passes the record on with what they found.
 *
 * ```
 * source:  --a--b--c--|
 * result:  --A--B--C--|     A = { event: a, findings: [...] } (synchronous detectors keep the order;
 *                           asynchronous ones may finish out of order)
 * ```
 *
 * Detectors are plug-ins ({@link RecordDetector}): built-in ones come from `perKeyDetector` (robust
 * z-score on EWMA, MAD, CUSUM, Page-Hinkley, ADWIN per model × segment × field) and
 * `featureForestDetector` (Half-Space Trees over `features`). Each detector's `update` is called in
 * arrival order, so its per-key state sees each key's records in order. A detector in shadow mode
 * runs on the same records; its findings are marked `shadow: true`, and the counters compare it with
 * the live detectors (differential testing) before anyone promotes it.
 *
 * State: stateless itself; the detectors hold per-key state (bounded by their `maxKeys`) and expose
 * snapshot/restore. Snapshot (`state` option, {@link OperatorStateHandle}): `{ operator:
 * 'parallelDetect', version: 1, detectors: [name, state][] }` — every detector's own snapshot, by name;
 * a restore hands each detector its state (names not configured here are ignored).
 *
 * Delivery: every input leaves exactly once — with its findings; dropped as clean when
 * `dropClean: true` and nothing was found; flagged with `error` (the default) or handed to
 * `deadLetter` when a detector throws, rejects or exceeds `timeoutMs`. Never a stream error for a
 * detector failure. Records held (waiting or running) count toward `pauseAtPendingRecords`
 * (`onPressure`) and `maxPendingRecords` (a stream error: upstream ignored the pause), so mergeMap's
 * internal buffer stays bounded.
 *
 * @example
 * const out = from(envelopes).pipe(
 *   parallelDetect({ detectors: [perKeyDetector({ detector: 'ewma-zscore', fields: ['latency_ms'] })] }),
 * );
 */
import { asyncScheduler, defer, filter, from, map, mergeMap, Observable, of, race, timer, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { dropRecord, withValue, type Envelope } from '../core/envelope.js';
import type { DetectorState, Finding, RecordDetector } from './parallel-detect/types.js';
import { checkFunction, checkInteger, checkOneOf } from './options.js';
import { checkPressureOptions, PressureValve, type PressureOptions } from './pressure-valve.js';
import { assertSnapshotVersion, assertStateHandle, type OperatorStateHandle } from '../core/state.js';
import type { UsageMeter } from '../core/usage-meter.js';

export type { Finding, RecordDetector, SyncRecordDetector } from './parallel-detect/types.js';

/** The value parallelDetect emits. */
export interface Detection<T> {
  readonly event: T;
  /** Findings of every detector, live and shadow. */
  readonly findings: readonly Finding[];
  /** Set when a detector failed (`onFailure: 'flag'`): which one and why. Other detectors' findings are kept. */
  readonly error?: string;
}

export interface DetectFailure<T> {
  readonly envelope: Envelope<T>;
  readonly step: string;
  readonly detector: string;
  readonly error: unknown;
  readonly failedAtMs: number;
}

/** Counters of one parallelDetect step, including the shadow-versus-live comparison. */
export class DetectCounters {
  records = 0;
  recordsWithFindings = 0;
  failures = 0;
  timeouts = 0;
  /** Findings per detector name. */
  readonly findingsByDetector = new Map<string, number>();
  /** Records where a shadow detector found something and no live one did, and the reverse, and both. */
  shadowOnly = 0;
  liveOnly = 0;
  both = 0;
  pendingRecords = 0;
}

export interface ParallelDetectOptions<T> extends PressureOptions {
  /** The detectors, at least one, names unique. Required. */
  readonly detectors: readonly RecordDetector<T>[];
  /** Records under detection at once, [1, 4096]. Default 8. */
  readonly concurrency?: number;
  /** Time limit for a record's asynchronous detectors, ms, [1, 1e7]. Default 1000. */
  readonly timeoutMs?: number;
  /** Drop (settle as 'dropped') records with no findings. Default false. */
  readonly dropClean?: boolean;
  /** 'flag' (emit with `error`, the default) or 'dead-letter'. */
  readonly onFailure?: 'flag' | 'dead-letter';
  readonly deadLetter?: (failure: DetectFailure<T>) => void;
  /** Step name in dead letters. Default 'parallelDetect'. */
  readonly step?: string;
  readonly counters?: DetectCounters;
  /** Spend meter: counts one 'detector-call' per detector run on a record. Default: none. */
  readonly meter?: UsageMeter;
  /** Clock for timeouts. Default asyncScheduler. */
  readonly scheduler?: SchedulerLike;
  /** Snapshot/restore of every detector's state, by name. Default: none. */
  readonly state?: OperatorStateHandle;
}

const op = 'parallelDetect';

export class DetectTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`detectors did not answer within ${timeoutMs} ms`);
    this.name = 'DetectTimeoutError';
  }
}

export class DetectOverflowError extends Error {
  constructor(limit: number) {
    super(`parallelDetect: more than maxPendingRecords=${limit} records held: upstream did not pause on onPressure(true)`);
    this.name = 'DetectOverflowError';
  }
}

type Outcome = { readonly findings: Finding[]; readonly failure?: { detector: string; error: unknown } };

export function parallelDetect<T>(options: ParallelDetectOptions<T>): OperatorFunction<Envelope<T>, Envelope<Detection<T>>> {
  const detectors = options.detectors;
  const meter = options.meter;
  if (!Array.isArray(detectors) || detectors.length === 0) {
    throw new RangeError(`${op}: option 'detectors' must be a non-empty array of detectors, got ${String(detectors)}`);
  }
  const names = new Set<string>();
  for (const d of detectors) {
    if (typeof d?.update !== 'function' || typeof d.name !== 'string') throw new TypeError(`${op}: every detector needs a name and update()`);
    if (names.has(d.name)) throw new RangeError(`${op}: detector names must be unique, '${d.name}' appears twice`);
    names.add(d.name);
  }
  const concurrency = checkInteger(op, 'concurrency', options.concurrency ?? 8, 1, 4096);
  const timeoutMs = checkInteger(op, 'timeoutMs', options.timeoutMs ?? 1000, 1, 1e7);
  const onFailure = checkOneOf(op, 'onFailure', options.onFailure ?? 'flag', ['flag', 'dead-letter'] as const);
  checkFunction(op, 'deadLetter', options.deadLetter, onFailure === 'dead-letter');
  checkFunction(op, 'onPressure', options.onPressure, false);
  const pressure = checkPressureOptions(op, options);
  const scheduler = options.scheduler ?? asyncScheduler;
  const step = options.step ?? op;
  const dropClean = options.dropClean ?? false;
  assertStateHandle(options.state, `${op}: option 'state'`);
  const attachState = (): void =>
    options.state?.attach(
      op,
      () => ({ operator: op, version: 1, detectors: detectors.map((d) => [d.name, d.snapshot()]) }),
      (snapshot) => {
        assertSnapshotVersion(snapshot, op, 1);
        const saved = snapshot['detectors'];
        if (!Array.isArray(saved)) throw new TypeError(`${op}: restore() needs { detectors: [name, state][] }`);
        for (const entry of saved as [string, DetectorState][]) detectors.find((d) => d.name === entry[0])?.restore(entry[1]);
      },
    );
  const { deadLetter, onPressure } = options;

  /** Calls every detector now (arrival order); waits for the asynchronous ones, bounded by the timeout. */
  const detect = (envelope: Envelope<T>): Observable<Outcome> => {
    const findings: Finding[] = [];
    const pending: Promise<void>[] = [];
    let failure: Outcome['failure'];
    meter?.add('detector-call', detectors.length);
    for (const detector of detectors) {
      try {
        const result = detector.update(envelope.value, envelope.eventTimeMs);
        if (Array.isArray(result)) findings.push(...(result as readonly Finding[]));
        else
          pending.push(
            Promise.resolve(result).then(
              (found) => void findings.push(...found),
              (error: unknown) => void (failure ??= { detector: detector.name, error }),
            ),
          );
      } catch (error) {
        failure ??= { detector: detector.name, error };
      }
    }
    if (pending.length === 0) return of({ findings, ...(failure ? { failure } : {}) });
    return race(
      from(Promise.all(pending)).pipe(map(() => ({ findings, ...(failure ? { failure } : {}) }))),
      timer(timeoutMs, scheduler).pipe(map(() => ({ findings, failure: failure ?? { detector: '(async)', error: new DetectTimeoutError(timeoutMs) } }))),
    );
  };

  return (source) =>
    defer(() => {
      attachState();
      const counters = options.counters ?? new DetectCounters();
      let held = 0;
      const valve = new PressureValve(pressure, onPressure, (limit) => new DetectOverflowError(limit));
      const release = (): void => {
        held--;
        counters.pendingRecords = held;
        valve.released(held);
      };
      return new Observable<Envelope<T>>((subscriber) =>
        source.subscribe({
          next: (envelope) => {
            held++;
            counters.pendingRecords = held;
            const overflow = valve.admit(held);
            if (overflow !== null) {
              subscriber.error(overflow);
              return;
            }
            subscriber.next(envelope);
          },
          error: (err: unknown) => subscriber.error(err),
          complete: () => subscriber.complete(),
        }),
      ).pipe(
        mergeMap(
          (envelope) =>
            detect(envelope).pipe(
              map((outcome): Envelope<Detection<T>> | null => {
                release();
                counters.records++;
                const live = outcome.findings.some((f) => !f.shadow);
                const shadow = outcome.findings.some((f) => f.shadow);
                if (live && shadow) counters.both++;
                else if (live) counters.liveOnly++;
                else if (shadow) counters.shadowOnly++;
                if (outcome.findings.length > 0) counters.recordsWithFindings++;
                for (const f of outcome.findings) counters.findingsByDetector.set(f.detector, (counters.findingsByDetector.get(f.detector) ?? 0) + 1);
                if (outcome.failure !== undefined) {
                  counters.failures++;
                  if (outcome.failure.error instanceof DetectTimeoutError) counters.timeouts++;
                  if (onFailure === 'dead-letter') {
                    deadLetter!({ envelope, step, detector: outcome.failure.detector, error: outcome.failure.error, failedAtMs: scheduler.now() });
                    return null;
                  }
                  const { detector, error } = outcome.failure;
                  const text = `${detector}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
                  return withValue(envelope, { event: envelope.value, findings: outcome.findings, error: text });
                }
                if (dropClean && outcome.findings.length === 0) {
                  dropRecord(envelope);
                  return null;
                }
                return withValue(envelope, { event: envelope.value, findings: outcome.findings });
              }),
            ),
          concurrency,
        ),
        // null marks a record that left (dropped or dead-lettered).
        filter((d): d is Envelope<Detection<T>> => d !== null),
      );
    });
}
