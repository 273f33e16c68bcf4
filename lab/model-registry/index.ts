export { startModelRegistry, type ModelRegistry, type ModelRegistryOptions } from './server.js';
export { modelMetadata, type ModelMetadata, type MetadataOptions } from './metadata.js';
