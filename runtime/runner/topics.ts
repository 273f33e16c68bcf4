/**
 * The topic and the format of each role of a topology (`input`, each output, `dlq`), from its
 * declaration and the run's `--topic` / `--format` overrides, checked before anything connects.
 */
import type { TopicFormat } from '../serde/index.js';
import type { Topology } from '../topology.js';
import { ConfigError } from '../config.js';

/** Topic per role: declared defaults, overridden by `--topic role=name`. Unknown roles fail. */
export function resolveTopics(topology: Topology<unknown>, overrides: Readonly<Record<string, string>>): Record<string, string> {
  const topics: Record<string, string> = { input: topology.input.topic, dlq: topology.deadLetterTopic };
  for (const [role, spec] of Object.entries(topology.outputs)) topics[role] = spec.topic;
  for (const [role, name] of Object.entries(overrides)) {
    if (!(role in topics)) {
      throw new ConfigError(`--topic ${role}=${name}: "${role}" is not a role of topology ${topology.name}; its roles are ${Object.keys(topics).join(', ')}`);
    }
    topics[role] = name;
  }
  return topics;
}

/**
 * The format of each role's topic: `formats` (from `--format role=format`) over the default —
 * `avro-confluent` with a schema registry, `avro` without. Checks everything a run could only find
 * out later: unknown roles, a registry format without a registry, JSON for the dead letters (whose
 * record carries bytes), an input writer version the contract does not have.
 */
export function resolveFormats(
  topology: Topology<unknown>,
  formats: Readonly<Record<string, TopicFormat>>,
  schemaRegistryUrl: string | undefined,
  inputWriterVersion?: number,
): Record<string, TopicFormat> {
  const roles = ['input', ...Object.keys(topology.outputs), 'dlq'];
  const resolved: Record<string, TopicFormat> = {};
  for (const role of roles) resolved[role] = schemaRegistryUrl ? 'avro-confluent' : 'avro';
  for (const [role, format] of Object.entries(formats)) {
    if (!roles.includes(role)) {
      throw new ConfigError(`--format ${role}=${format}: "${role}" is not a role of topology ${topology.name}; its roles are ${roles.join(', ')}`);
    }
    if (format === 'avro-confluent' && !schemaRegistryUrl) {
      throw new ConfigError(`--format ${role}=avro-confluent needs a schema registry: set SCHEMA_REGISTRY_URL (or --schema-registry <url>)`);
    }
    if (format === 'json' && role === 'dlq') {
      throw new ConfigError(`--format dlq=json: dead letters carry the original bytes, which JSON cannot; use avro or avro-confluent`);
    }
    resolved[role] = format;
  }
  if (inputWriterVersion !== undefined) {
    const versions = topology.input.contract.versions.map((v) => v.version);
    if (!versions.includes(inputWriterVersion)) {
      throw new ConfigError(`--input-writer-version ${inputWriterVersion}: ${topology.input.contract.name} has versions ${versions.join(', ')}`);
    }
    if (resolved.input !== 'avro') {
      throw new ConfigError(`--input-writer-version applies to plain Avro input (format avro); the input's format is ${resolved.input}`);
    }
  }
  return resolved;
}
