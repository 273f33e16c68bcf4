/**
 * NAB's scaled sigmoid: the weight of a detection as a function of its position relative to a
 * labelled anomaly window. Positions are in window widths, measured against the window's right edge:
 * -1 is the window's left edge, 0 its right edge, positive values lie after the window.
 *
 *   value(p) = 2 / (1 + e^(5p)) - 1     (equal to tanh(-2.5 p)),  and -1 for p >= 3
 *
 * It falls from about +0.987 at p = -1 through 0 at the right edge to about -0.987 one window
 * width after it. Inside a window it is a reward (earlier is better); after a window it is the
 * share of the false-positive weight charged (a detection just after the window costs little).
 */
export function scaledSigmoid(relativePosition: number): number {
  if (relativePosition >= 3) return -1;
  return 2 / (1 + Math.exp(5 * relativePosition)) - 1;
}

/**
 * The scaled sigmoid at a window's left edge (about 0.98661). NAB divides true-positive rewards by
 * it so that a detection on the window's first row earns exactly the profile's true-positive weight,
 * which is what makes the "perfect detector" score `windows × tpWeight`.
 */
export const EARLIEST_DETECTION_SIGMOID = scaledSigmoid(-1);
