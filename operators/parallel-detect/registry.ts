/**
 * Detector factories by name: what a topology's config, the NAB runner and the lab refer to.
 *
 * ```ts
 * const detector = createDetector('ewma-zscore', { alpha: 0.02 });
 * for (const [t, x] of series) scores.push(detector.score(t, x));
 * ```
 */
import { adwin } from './adwin.js';
import { cusum } from './cusum.js';
import { ewmaZScore } from './ewma-zscore.js';
import { halfSpaceTrees } from './half-space-trees.js';
import { mad } from './mad.js';
import { multiscaleBreakout } from './multiscale-breakout.js';
import { pageHinkley } from './page-hinkley.js';
import { rangeBreakout } from './range-breakout.js';
import { sketchCusum } from './sketch-cusum.js';
import type { Detector, DetectorFactory } from './types.js';

export const detectorFactories = {
  'ewma-zscore': ewmaZScore,
  mad,
  cusum,
  'page-hinkley': pageHinkley,
  adwin,
  'half-space-trees': halfSpaceTrees,
  'range-breakout': rangeBreakout,
  'multiscale-breakout': multiscaleBreakout,
  'sketch-cusum': sketchCusum,
} as const satisfies Readonly<Record<string, DetectorFactory>>;

export type DetectorName = keyof typeof detectorFactories;

export const detectorNames: readonly DetectorName[] = Object.keys(detectorFactories) as DetectorName[];

export function isDetectorName(name: string): name is DetectorName {
  return Object.hasOwn(detectorFactories, name);
}

/** Makes a detector by registry name; throws a RangeError listing the names when it is unknown. */
export function createDetector(name: string, options?: Readonly<Record<string, number>>): Detector {
  if (!isDetectorName(name)) {
    throw new RangeError(`unknown detector '${name}' (accepted: ${detectorNames.join(', ')})`);
  }
  return detectorFactories[name](options);
}
