/**
 * The formats a topic's values can be in — `avro` (plain Avro binary, with or without signalpath's
 * schema headers), `avro-confluent` (the Confluent wire format of a schema registry), `json` — and
 * how to recognise what a record that failed to decode probably is, so that its dead letter says
 * which setting to change: a producer that writes through a schema registry, one that writes JSON,
 * or signalpath's own plain Avro (its `sp-schema` header). Recognising runs only after a decode has
 * failed, never on the hot path.
 */

/** Record header holding the contract's full Avro name, e.g. `dev.signalpath.Mention` (plain Avro as signalpath writes it). */
export const SCHEMA_HEADER = 'sp-schema';
/** Record header holding the writer's contract version as a decimal string, e.g. `1`. */
export const SCHEMA_VERSION_HEADER = 'sp-schema-version';

/** The topic formats a run can be told about (`--format role=…`, SIGNALPATH_TOPIC_FORMATS). */
export type TopicFormat = 'avro' | 'avro-confluent' | 'json';
export const TOPIC_FORMATS: readonly TopicFormat[] = ['avro', 'avro-confluent', 'json'];

/** The setting that tells a run the format of the topic with role `role`, in words. */
export function formatSetting(role: string, format: TopicFormat): string {
  const registry = format === 'avro-confluent' ? ' with SCHEMA_REGISTRY_URL set' : '';
  return `--format ${role}=${format} (or SIGNALPATH_TOPIC_FORMATS=${role}=${format})${registry}`;
}

/**
 * What `bytes` look like when they are not in `configured` format, as a sentence naming the setting
 * to change; '' when nothing is recognised.
 */
export function recogniseFormat(
  bytes: Buffer,
  headers: Readonly<Record<string, Buffer>>,
  configured: TopicFormat,
  role: string,
): string {
  if (configured !== 'avro' && headers[SCHEMA_HEADER] !== undefined) {
    return `the record carries the ${SCHEMA_HEADER} header (${JSON.stringify(headers[SCHEMA_HEADER].toString('utf8'))}): it is plain Avro as signalpath writes it; if the whole topic is, set ${formatSetting(role, 'avro')}`;
  }
  if (configured !== 'avro-confluent' && bytes.length >= 5 && bytes[0] === 0) {
    return `it looks like the Confluent wire format (magic byte 0, schema id ${bytes.readUInt32BE(1)}): the producer writes through a schema registry; set ${formatSetting(role, 'avro-confluent')}`;
  }
  if (configured !== 'json' && looksLikeJson(bytes)) {
    return `it looks like JSON (${JSON.stringify(bytes.subarray(0, 24).toString('utf8'))}…); if the producer writes JSON, set ${formatSetting(role, 'json')}`;
  }
  return '';
}

function looksLikeJson(bytes: Buffer): boolean {
  let i = 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  if (bytes[i] !== 0x7b) return false; // '{': every contract is a record, so a JSON object
  try {
    JSON.parse(bytes.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}
