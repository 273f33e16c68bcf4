/**
 * Broker administration the runner needs: create missing topics with their declared partition
 * counts, and read end and committed offsets (the tests and `--until-idle` check against them).
 */
import { AdminClient, CODES, KafkaConsumer, type ClientConfig, type LibrdKafkaError } from './client.js';

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

function brokerError(brokers: string, err: LibrdKafkaError): Error {
  return new Error(`cannot reach Kafka at ${brokers} (KAFKA_BROKERS / --brokers): ${err.message}`);
}
