export * from './types.js';
export * from './registry.js';
export { EwmaZScoreDetector, ewmaZScore, ewmaZScoreOptionSpec } from './ewma-zscore.js';
export { erf, gaussianTailScore, alarmRatioScore } from './stats.js';
