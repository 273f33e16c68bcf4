export { scoreMentions, formatScore, quantile, type MentionScore, type IncidentScore, type ScoreOptions } from './score-mentions.js';
export * from './run-cost.js';
export { splitEpisodes, DEFAULT_EPISODE_GAP_MS, type Episode } from './episodes.js';
export { readMentions } from './read-mentions.js';
