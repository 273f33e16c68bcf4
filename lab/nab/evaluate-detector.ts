import { normalizeNabScore, nullDetectorRawScore, perfectDetectorRawScore } from './normalization.js';
import { scoreCorpusAtThreshold } from './score-at-threshold.js';
import type { FileScoringLayout } from './scoring-layout.js';
import { optimizeThreshold, prepareThresholdSweep, type ThresholdSweep } from './threshold-optimizer.js';
import type { DetectorFileScores, NabProfile } from './types.js';

/** A detector's result under one profile. */
export interface ProfileScore {
  readonly profile: string;
  readonly threshold: number;
  readonly rawScore: number;
  /** NAB's final score: 0 = null detector, 100 = perfect detector. */
  readonly normalizedScore: number;
  readonly nullRawScore: number;
  readonly perfectRawScore: number;
}

export interface EvaluateDetectorOptions {
  /**
   * Threshold to use per profile name. Profiles without one get NAB's optimised threshold.
   * Default: none (optimise every profile).
   */
  readonly thresholds?: Readonly<Record<string, number>>;
}

/**
 * Scores a detector over the corpus under each profile, as NAB reports it: the threshold (given, or
 * the one maximising the raw corpus score), the raw score, and the normalised score.
 */
export function evaluateDetector(
  layouts: readonly FileScoringLayout[],
  detectorScores: readonly DetectorFileScores[],
  profiles: readonly NabProfile[],
  options: EvaluateDetectorOptions = {},
): Record<string, ProfileScore> {
  let sweep: ThresholdSweep | undefined;
  const result: Record<string, ProfileScore> = {};
  for (const profile of profiles) {
    const givenThreshold = options.thresholds?.[profile.name];
    let threshold: number;
    let rawScore: number;
    if (givenThreshold !== undefined) {
      threshold = givenThreshold;
      rawScore = scoreCorpusAtThreshold(layouts, detectorScores, profile, givenThreshold).rawScore;
    } else {
      sweep ??= prepareThresholdSweep(layouts, detectorScores);
      ({ threshold, rawScore } = optimizeThreshold(sweep, profile));
    }
    const nullRawScore = nullDetectorRawScore(layouts, profile);
    const perfectRawScore = perfectDetectorRawScore(layouts, profile);
    result[profile.name] = {
      profile: profile.name,
      threshold,
      rawScore,
      normalizedScore: normalizeNabScore(rawScore, nullRawScore, perfectRawScore),
      nullRawScore,
      perfectRawScore,
    };
  }
  return result;
}
