/**
 * Reads a topic from the beginning, without a consumer group: `signalpath tail`, tests and the lab
 * read outputs with it. It assigns every partition itself, so it never disturbs a topology's group.
 */
import type { ClientConfig, Message } from './client.js';
import { KafkaConsumer } from './client.js';
import { endOffsets } from './admin.js';

export interface ReadTopicOptions {
  readonly brokers: string;
  readonly topic: string;
  /** Stop at the end offsets seen at start (default true); false: follow until `maxRecords` / `idleMs`. */
  readonly toEnd?: boolean;
  readonly maxRecords?: number;
  /** With toEnd false: stop after this long without records. Default: never. */
  readonly idleMs?: number;
  /** 'read_committed' for exactly-once outputs. Default read_uncommitted. */
  readonly isolation?: 'read_committed' | 'read_uncommitted';
  readonly signal?: AbortSignal;
  /** The run's client settings (SASL/TLS), applied last; see {@link ClientConfig}. */
  readonly clientConfig?: ClientConfig;
}

/** Yields the topic's records in batches. */
export async function* readTopic(options: ReadTopicOptions): AsyncGenerator<Message[]> {
  const ends = await endOffsets(options.brokers, options.topic, undefined, options.clientConfig);
  const remaining = new Map(ends.filter((e) => e.offset > 0).map((e) => [e.partition, e.offset]));
  const toEnd = options.toEnd ?? true;
  if (toEnd && remaining.size === 0) return;
  const consumer = new KafkaConsumer(
    {
      'bootstrap.servers': options.brokers,
      'group.id': `signalpath-reader-${process.pid}-${Date.now()}`,
      'client.id': 'signalpath-reader',
      'enable.auto.commit': false,
      'fetch.queue.backoff.ms': 10,
      'isolation.level': options.isolation ?? 'read_uncommitted',
      log_level: 3,
      ...options.clientConfig,
    },
    { 'auto.offset.reset': 'earliest' },
  );
  await new Promise<void>((resolve, reject) => consumer.connect({ timeout: 15_000 }, (err) => (err ? reject(err) : resolve())));
  try {
    consumer.assign(ends.map((e) => ({ topic: options.topic, partition: e.partition, offset: 0 })));
    consumer.setDefaultConsumeTimeout(100);
    let read = 0;
    let lastRecordAt = Date.now();
    while (!options.signal?.aborted) {
      const batch = await new Promise<Message[]>((resolve, reject) =>
        consumer.consume(1000, (err, messages) => (err && err.isFatal ? reject(err) : resolve(messages ?? []))),
      );
      if (batch.length > 0) {
        lastRecordAt = Date.now();
        const limited = options.maxRecords !== undefined ? batch.slice(0, options.maxRecords - read) : batch;
        read += limited.length;
        yield limited;
        if (options.maxRecords !== undefined && read >= options.maxRecords) return;
        if (toEnd) {
          for (const message of batch) {
            if (message.offset + 1 >= (remaining.get(message.partition) ?? 0)) remaining.delete(message.partition);
          }
          if (remaining.size === 0) return;
        }
      } else if (options.idleMs !== undefined && Date.now() - lastRecordAt >= options.idleMs) {
        return;
      }
    }
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}

/** Every record of the topic up to its current end. */
export async function readAll(brokers: string, topic: string, isolation?: 'read_committed' | 'read_uncommitted', clientConfig?: ClientConfig): Promise<Message[]> {
  const all: Message[] = [];
  for await (const batch of readTopic({ brokers, topic, isolation, clientConfig })) all.push(...batch);
  return all;
}
