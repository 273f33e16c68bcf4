/** The serde for topic values (plain Avro, Confluent wire format, JSON): see topic-serde.ts. */
export {
  createTopicSerde,
  decodeResolvingWriter,
  schemaRegistryFromEnv,
  type EncodedValue,
  type SchemaRegistryOptions,
  type TopicSerde,
  type TopicSerdeOptions,
} from './topic-serde.js';
export { SCHEMA_HEADER, SCHEMA_VERSION_HEADER, TOPIC_FORMATS, formatSetting, type TopicFormat } from './formats.js';
export { WIRE_FORMAT_HEADER_BYTES, WIRE_FORMAT_MAGIC_BYTE } from './registry-codec.js';
export { SchemaDecodeError, SchemaValidationError, UnknownWriterSchemaError, type ValidationIssue } from './errors.js';
