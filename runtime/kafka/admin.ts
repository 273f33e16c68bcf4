/**
 * Broker administration the runner needs: create missing topics with their declared partition
 * counts, and read end and committed offsets (the tests and `--until-idle` check against them).
 */
import { AdminClient, CODES, KafkaConsumer, Producer, type ClientConfig, type LibrdKafkaError } from './client.js';

export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
  /** Topic configs, e.g. { 'cleanup.policy': 'compact' }. */
  readonly config?: Readonly<Record<string, string>>;
}

/**
 * Creates each topic that does not exist yet; existing topics are left as they are. `clientConfig`
 * carries the run's security settings (SASL/TLS), like every other client of the run.
 */
export async function ensureTopics(
  brokers: string,
  topics: readonly TopicSpec[],
  timeoutMs = 15_000,
  clientConfig?: ClientConfig,
): Promise<string[]> {
  const admin = AdminClient.create({ 'bootstrap.servers': brokers, 'client.id': 'signalpath-admin', log_level: 3, ...clientConfig });
  try {
    const existing = new Set(
      await new Promise<string[]>((resolve, reject) =>
        admin.listTopics({ timeout: timeoutMs }, (err, names) => (err ? reject(brokerError(brokers, err)) : resolve(names))),
      ),
    );
    const created: string[] = [];
    for (const spec of topics) {
      if (existing.has(spec.topic)) continue;
      await new Promise<void>((resolve, reject) =>
        admin.createTopic(
          { topic: spec.topic, num_partitions: spec.partitions, replication_factor: -1, config: { ...spec.config } },
          timeoutMs,
          (err) => (err && err.code !== CODES.ERRORS.ERR_TOPIC_ALREADY_EXISTS ? reject(err) : resolve()),
        ),
      );
      existing.add(spec.topic);
      created.push(spec.topic);
    }
    return created;
  } finally {
    admin.disconnect();
  }
}

export interface PartitionOffsets {
  readonly partition: number;
  readonly offset: number;
}

/** The end (high-watermark) offset of every partition of `topic`. */
export async function endOffsets(brokers: string, topic: string, timeoutMs = 10_000, clientConfig?: ClientConfig): Promise<PartitionOffsets[]> {
  const consumer = await connectedConsumer(brokers, `signalpath-offsets-${process.pid}`, timeoutMs, clientConfig);
  try {
    const metadata = await new Promise<{ topics: { name: string; partitions: { id: number }[] }[] }>((resolve, reject) =>
      consumer.getMetadata({ topic, timeout: timeoutMs }, (err, data) => (err ? reject(err) : resolve(data))),
    );
    const partitions = metadata.topics.find((t) => t.name === topic)?.partitions ?? [];
    const result: PartitionOffsets[] = [];
    for (const { id } of partitions) {
      const watermarks = await new Promise<{ highOffset: number }>((resolve, reject) =>
        consumer.queryWatermarkOffsets(topic, id, timeoutMs, (err, offsets) => (err ? reject(err) : resolve(offsets))),
      );
      result.push({ partition: id, offset: watermarks.highOffset });
    }
    return result.sort((a, b) => a.partition - b.partition);
  } finally {
    await disconnect(consumer);
  }
}

/** The offsets `group` has committed on `topic` (-1001, librdkafka's "invalid", when none). */
export async function committedOffsets(brokers: string, group: string, topic: string, partitions: number, timeoutMs = 10_000, clientConfig?: ClientConfig): Promise<PartitionOffsets[]> {
  const consumer = await connectedConsumer(brokers, group, timeoutMs, clientConfig);
  try {
    const toppars = Array.from({ length: partitions }, (_, partition) => ({ topic, partition }));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const committed = await new Promise<{ partition: number; offset?: number }[]>((resolve, reject) =>
          consumer.committed(toppars, timeoutMs, (err, result) => (err ? reject(err) : resolve(result))),
        );
        // No commit yet reads as -1001 (librdkafka's OFFSET_INVALID).
        return committed.map(({ partition, offset }) => ({ partition, offset: offset ?? -1001 })).sort((a, b) => a.partition - b.partition);
      } catch (error) {
        // The group coordinator moves or loads for a moment after a broker starts; ask again.
        const code = (error as LibrdKafkaError).code;
        const retriable = code === CODES.ERRORS.ERR_NOT_COORDINATOR || code === CODES.ERRORS.ERR_COORDINATOR_LOAD_IN_PROGRESS || code === CODES.ERRORS.ERR_COORDINATOR_NOT_AVAILABLE;
        if (!retriable || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  } finally {
    await disconnect(consumer);
  }
}

async function connectedConsumer(brokers: string, group: string, timeoutMs: number, clientConfig: ClientConfig | undefined): Promise<InstanceType<typeof KafkaConsumer>> {
  const consumer = new KafkaConsumer({ 'bootstrap.servers': brokers, 'group.id': group, 'client.id': 'signalpath-offsets', 'enable.auto.commit': false, log_level: 3, ...clientConfig }, {});
  await new Promise<void>((resolve, reject) =>
    consumer.connect({ timeout: timeoutMs }, (err) => (err ? reject(brokerError(brokers, err)) : resolve())),
  );
  return consumer;
}

function disconnect(consumer: InstanceType<typeof KafkaConsumer>): Promise<void> {
  return new Promise((resolve) => consumer.disconnect(() => resolve()));
}

/**
 * Connects once with the run's security settings and fails fast, naming the setting to fix, when the
 * broker refuses the credentials or the TLS handshake fails. Without it librdkafka retries such
 * errors until a request times out, and the run would end with "Local: Timed out". librdkafka's
 * messages never contain the password; the CLI's redactor covers every line anyway.
 */
export async function checkBrokerAccess(brokers: string, clientConfig: ClientConfig | undefined, timeoutMs = 15_000): Promise<void> {
  // librdkafka reports a refused login or handshake as a log line at error level; its error events
  // are not delivered to JavaScript before a connect succeeds (measured with the client 1.10.1).
  const producer = new Producer({ 'bootstrap.servers': brokers, 'client.id': 'signalpath-access-check', ...clientConfig, log_level: 3 });
  let refused: Error | null = null;
  try {
    await new Promise<void>((resolve, reject) => {
      const onFailure = (message: string, code?: number): void => {
        refused ??= accessError(brokers, { message, code });
        if (refused !== null) reject(refused);
      };
      producer.on('event.log', (line: { message: string }) => onFailure(line.message));
      producer.on('event.error', (err: LibrdKafkaError) => onFailure(err.message, err.code));
      producer.connect({ timeout: timeoutMs }, (err) => (err ? reject(refused ?? brokerError(brokers, err)) : resolve()));
    });
  } finally {
    // Never connected (refused): there is nothing to disconnect, and the client would throw saying so.
    if (producer.isConnected()) await new Promise<void>((resolve) => producer.disconnect(() => resolve()));
  }
}

/** An authentication or TLS failure, as an error naming the SIGNALPATH_KAFKA_* settings to fix; null for others. */
function accessError(brokers: string, err: { readonly message: string; readonly code?: number }): Error | null {
  const message = err.message ?? '';
  if (err.code === CODES.ERRORS.ERR__AUTHENTICATION || /SASL authentication|authentication failed/i.test(message)) {
    return new Error(
      `Kafka at ${brokers} refused the credentials (SASL authentication failed): check SIGNALPATH_KAFKA_SASL_USERNAME and SIGNALPATH_KAFKA_SASL_PASSWORD, and SIGNALPATH_KAFKA_SASL_MECHANISMS (the broker's mechanism); librdkafka: ${message}`,
    );
  }
  if (err.code === CODES.ERRORS.ERR__SSL || /SSL handshake failed|certificate verify failed/i.test(message)) {
    const untrusted = /certificate verify failed|unable to get local issuer|self[- ]signed/i.test(message);
    return new Error(
      untrusted
        ? `TLS handshake with Kafka at ${brokers} failed: the broker's certificate is not signed by a CA this client trusts (certificate verify failed); set SIGNALPATH_KAFKA_SSL_CA_LOCATION to the CA's PEM file; librdkafka: ${message}`
        : `TLS handshake with Kafka at ${brokers} failed: check SIGNALPATH_KAFKA_SECURITY_PROTOCOL (the listener's protocol) and SIGNALPATH_KAFKA_SSL_*; librdkafka: ${message}`,
    );
  }
  return null;
}

function brokerError(brokers: string, err: LibrdKafkaError): Error {
  return new Error(`cannot reach Kafka at ${brokers} (KAFKA_BROKERS / --brokers): ${err.message}`);
}
