/**
 * windowDelayProbe — counts the records a section of the chain (an async lookup, lanes) delays past
 * their event-time window: their tumbling window was still open, by the watermark upstream, when
 * they entered the section, and had closed by the time they left it. A window closes once the
 * highest watermark that has entered reaches its end − 1, the rule by which windowed operators such
 * as `windowedDedup` treat a record as late. Counting only: records pass unchanged.
 *
 * ```
 * enter:  --a(t=10s, w=5s)--b(t=130s, w=125s)-------------   window 60 s
 *           … the section holds a while b passes …
 * leave:  ------------------b------------------a----------   a: 'delayed' (its window [0, 60s) closed at w=125s)
 * ```
 *
 * Put `enter()` before the section and `leave()` after it; `leave(onLeave)` tells, per record, what the
 * section did to its window (`in-time`, `delayed`, `late-on-entry` when its window had closed before
 * it entered). The bookkeeping: `window-delay-probe/window-delay-tracker.ts`.
 *
 * State: the highest watermark that entered, and one WeakMap entry per record inside the section
 * (keyed by its settlement, which the steps in between must pass on); shared by the pair, not per
 * subscription.
 * Delivery: passes every record on unchanged, in order, at both ends; never settles or drops one. A
 * record that reaches `leave()` without passing `enter()` is not counted. An `onLeave` that throws
 * errors the stream.
 *
 * @example
 * ```ts
 * const delay = windowDelayProbe({ windowSizeMs: 60_000 });
 * input.step('probe-in', delay.enter()).step('enrich', enrich(options)).step('probe-out', delay.leave());
 * // later: delay.counts.delayed records reached the windows after their window had closed
 * ```
 */
import { tap, type OperatorFunction } from 'rxjs';
import type { Envelope } from '../core/envelope.js';
import { checkFunction, checkInteger } from './options.js';
import { WindowDelayTracker, type WindowDelay } from './window-delay-probe/window-delay-tracker.js';

export { WindowDelayTracker, type WindowDelay } from './window-delay-probe/window-delay-tracker.js';

const OP = 'windowDelayProbe';

export interface WindowDelayProbeOptions {
  /** The tumbling event-time window of the windowed step after the section, ms, [1, 10^12]. Required. */
  readonly windowSizeMs: number;
}

/** Records that left the section, by what it did to their window. */
export interface WindowDelayCounts {
  readonly inTime: number;
  readonly delayed: number;
  readonly lateOnEntry: number;
}

/** The two ends of one probe. */
export interface WindowDelayProbe {
  /** Notes each record entering the section (and the watermark it brings). */
  enter<T>(): OperatorFunction<Envelope<T>, Envelope<T>>;
  /** Judges each record leaving the section; `onLeave` gets it with the verdict (undefined: it did not pass `enter()`). */
  leave<T>(onLeave?: (envelope: Envelope<T>, delay: WindowDelay | undefined) => void): OperatorFunction<Envelope<T>, Envelope<T>>;
  /** What the section did to the records that left it so far. */
  readonly counts: WindowDelayCounts;
  /** The highest watermark that entered the section. */
  readonly inputWatermarkMs: number;
}

/** A probe around a section of a chain (see the file's comment). */
export function windowDelayProbe(options: WindowDelayProbeOptions): WindowDelayProbe {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${OP}: options are required`);
  const tracker = new WindowDelayTracker(checkInteger(OP, 'windowSizeMs', options.windowSizeMs, 1, 1e12));
  const counts = { inTime: 0, delayed: 0, lateOnEntry: 0 };
  return {
    enter: <T>() => tap((envelope: Envelope<T>) => tracker.entered(envelope)),
    leave: <T>(onLeave?: (envelope: Envelope<T>, delay: WindowDelay | undefined) => void) => {
      checkFunction(OP, 'leave(onLeave)', onLeave, false);
      return tap((envelope: Envelope<T>) => {
        const delay = tracker.left(envelope);
        if (delay === 'in-time') counts.inTime++;
        else if (delay === 'delayed') counts.delayed++;
        else if (delay === 'late-on-entry') counts.lateOnEntry++;
        onLeave?.(envelope, delay);
      });
    },
    get counts() {
      return { ...counts };
    },
    get inputWatermarkMs() {
      return tracker.inputWatermarkMs;
    },
  };
}
