export { scoreMentions, formatScore, quantile, type MentionScore, type IncidentScore, type ScoreOptions } from './score-mentions.js';
export * from './run-cost.js';
export { readMentions } from './read-mentions.js';
