/**
 * A bare KafkaSource of InferenceEvents for tests that drive the source itself (settling by hand):
 * reads from the earliest offset, no event-time alignment, nothing expected in the dead-letter path.
 */
import { expect } from 'chai';
import { KafkaSource, type KafkaSourceOptions } from '../../runtime/kafka/source.js';
import { createTopicSerde } from '../../runtime/serde/index.js';
import { InferenceEventContract, type InferenceEvent } from '../../schemas/index.js';

export function inferenceSource(
  options: Pick<KafkaSourceOptions<InferenceEvent>, 'brokers' | 'group' | 'topic' | 'maxUnsettled'> & Partial<KafkaSourceOptions<InferenceEvent>>,
): KafkaSource<InferenceEvent> {
  const serde = createTopicSerde({ contract: InferenceEventContract, topic: options.topic });
  return new KafkaSource<InferenceEvent>({
    decode: (bytes, headers) => serde.decode(bytes, headers),
    onDeadLetter: () => expect.fail('nothing here is dead-lettered'),
    partitionHighWater: 10_000,
    partitionLowWater: 5_000,
    batchSize: 100,
    commitIntervalMs: 500,
    allowedLatenessMs: 0,
    idleTimeoutMs: 30_000,
    startFrom: 'earliest',
    log: () => {},
    ...options,
  });
}
