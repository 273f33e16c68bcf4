export { replayNab, nabModelId, type NabReplayOptions } from './nab-replay.js';
export { generateStream, SEGMENT_NAMES, type StreamOptions, type GeneratedStream, type GroundTruthRun, type GroundTruthIncidentResult, type NoiseEpisode } from './stream.js';
export { PROFILE_NAMES, streamShape, type ProfileName, type StreamShape, type NoiseShape } from './profiles.js';
export { FIELD_SIGMA, INCIDENT_KINDS, type IncidentKind, type GroundTruthIncident } from './incidents.js';
export { readGroundTruth, writeGroundTruth, type GroundTruth } from './truth-file.js';
export { generateToTopic, type GenerateToTopicOptions } from './to-topic.js';
export { generateInferenceEvents, type GeneratorOptions, type Incident } from './simple-stream.js';
