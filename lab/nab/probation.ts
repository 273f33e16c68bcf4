/** NAB's default probationary fraction: the first 15% of each file is for learning, not scored. */
export const NAB_PROBATIONARY_FRACTION = 0.15;

/**
 * Number of leading rows of a file that NAB leaves unscored: `floor(fraction × rows)`, capped at
 * `fraction × 5000` (750 rows with the default), so long files do not get an ever longer free ride.
 * Detections in these rows count for nothing, neither reward nor cost.
 */
export function probationaryRowCount(rowCount: number, fraction: number = NAB_PROBATIONARY_FRACTION): number {
  if (!Number.isInteger(rowCount) || rowCount < 0) {
    throw new RangeError(`rowCount must be a non-negative integer, got ${rowCount}`);
  }
  if (!(fraction >= 0 && fraction <= 1)) {
    throw new RangeError(`probationary fraction must be in [0, 1], got ${fraction}`);
  }
  // NAB compares the row index against the unrounded cap, so a fractional cap admits the next row up.
  return Math.min(Math.floor(fraction * rowCount), Math.ceil(fraction * 5000));
}
