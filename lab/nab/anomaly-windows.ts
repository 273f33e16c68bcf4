import type { AnomalyWindow } from './types.js';

/** A window as the label file gives it: start and end timestamps, both inclusive. */
export interface WindowLimitsMs {
  readonly startMs: number;
  readonly endMs: number;
}

/**
 * Resolves labelled window limits to row ranges of a data file, as NAB does: the window starts on
 * the first row whose timestamp equals its start and ends on the first row after that whose
 * timestamp equals its end. NAB's labeller snaps every window to row timestamps, and matching them
 * exactly (rather than by "at or after") keeps us right on the corpus's few files where timestamps
 * repeat (daylight-saving artefacts) or step back once.
 *
 * @throws Error when a limit is not the timestamp of a row, or windows are out of order or overlap.
 */
export function resolveAnomalyWindows(
  timestampsMs: Float64Array,
  limits: readonly WindowLimitsMs[],
  source: string,
): AnomalyWindow[] {
  const windows: AnomalyWindow[] = [];
  for (const { startMs, endMs } of limits) {
    const firstRow = timestampsMs.indexOf(startMs);
    const lastRow = firstRow < 0 ? -1 : timestampsMs.indexOf(endMs, firstRow);
    if (firstRow < 0 || lastRow < 0) {
      throw new Error(
        `${source}: window [${isoOf(startMs)}, ${isoOf(endMs)}] must start and end on the timestamp of a data row ` +
          '(its end no earlier than its start)',
      );
    }
    const previous = windows.at(-1);
    if (previous !== undefined && firstRow <= previous.lastRow) {
      throw new Error(`${source}: windows must be in time order and must not overlap (at ${isoOf(startMs)})`);
    }
    windows.push({ startMs, endMs, firstRow, lastRow });
  }
  return windows;
}

function isoOf(timeMs: number): string {
  return Number.isFinite(timeMs) ? new Date(timeMs).toISOString() : String(timeMs);
}
