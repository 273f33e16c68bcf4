/** The Avro serde for topic values: see topic-serde.ts. */
export {
  createTopicSerde,
  decodeResolvingWriter,
  schemaRegistryFromEnv,
  type EncodedValue,
  type SchemaRegistryOptions,
  type TopicSerde,
  type TopicSerdeOptions,
} from './topic-serde.js';
export { SCHEMA_HEADER, SCHEMA_VERSION_HEADER } from './plain-codec.js';
export { WIRE_FORMAT_HEADER_BYTES, WIRE_FORMAT_MAGIC_BYTE } from './registry-codec.js';
export { SchemaDecodeError, SchemaValidationError, UnknownWriterSchemaError, type ValidationIssue } from './errors.js';
