/**
 * The run's watchdog: watches for two ends — the input going idle (with --until-idle), and a
 * deadlock: consumption blocked at --max-unsettled while nothing settles, because steps hold every
 * unsettled record waiting for input that cannot come. A deadlock is fatal, with a message that says
 * what to change.
 */
export interface WatchdogOptions {
  readonly source: { blockedForMs(): number; idleForMs(): number | null; readonly stats: { readonly unsettled: number } };
  readonly sink: { readonly inFlight: number };
  readonly drainTimeoutMs: number;
  readonly maxUnsettled: number;
  readonly untilIdleMs: number | undefined;
  readonly fail: (error: Error) => void;
  readonly idle: () => void;
}

export function startWatchdog(o: WatchdogOptions): NodeJS.Timeout {
  const timer = setInterval(() => {
    const blockedMs = o.source.blockedForMs();
    if (blockedMs >= o.drainTimeoutMs) {
      o.fail(
        new Error(
          `consumption has been blocked for ${blockedMs} ms with ${o.source.stats.unsettled} records unsettled (the --max-unsettled limit, ${o.maxUnsettled}) and none settling: ` +
            'steps hold them all (windows, reservoirs or queues waiting for the watermark). Raise --max-unsettled / SIGNALPATH_MAX_UNSETTLED above what the steps hold, or bound what they hold',
        ),
      );
      return;
    }
    if (o.untilIdleMs === undefined) return;
    const idle = o.source.idleForMs();
    if (idle !== null && idle >= o.untilIdleMs && o.sink.inFlight === 0) o.idle();
  }, Math.min(200, o.untilIdleMs ?? 200));
  timer.unref();
  return timer;
}
