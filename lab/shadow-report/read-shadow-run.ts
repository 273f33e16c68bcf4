/**
 * What the shadow report reads: the live and shadow mention topics and the labels topic, each from
 * its beginning to its current end.
 */
import { LabelContract, type Label, type Mention } from '../../schemas/index.js';
import type { ClientConfig } from '../../runtime/kafka/client.js';
import { readAll } from '../../runtime/kafka/topic-reader.js';
import { createTopicSerde } from '../../runtime/serde/index.js';
import { fromKafkaHeaders } from '../../runtime/kafka/headers.js';
import { readMentions } from '../evaluate/read-mentions.js';

export interface ShadowRunTopics {
  readonly live: string;
  readonly shadow: string;
  readonly labels: string;
}

/** Every Label on `topic` (records that are not Labels are skipped). */
export async function readLabels(brokers: string, topic: string, clientConfig?: ClientConfig): Promise<Label[]> {
  const serde = createTopicSerde({ contract: LabelContract, topic });
  const labels: Label[] = [];
  for (const message of await readAll(brokers, topic, undefined, clientConfig)) {
    if (message.value === null) continue;
    try {
      labels.push(serde.decode(message.value, fromKafkaHeaders(message.headers)));
    } catch {
      // not a Label: skipped
    }
  }
  return labels;
}

export async function readShadowRun(brokers: string, topics: ShadowRunTopics, clientConfig?: ClientConfig): Promise<{ live: Mention[]; shadow: Mention[]; labels: Label[] }> {
  const [live, shadow, labels] = await Promise.all([readMentions(brokers, topics.live, 0, clientConfig), readMentions(brokers, topics.shadow, 0, clientConfig), readLabels(brokers, topics.labels, clientConfig)]);
  return { live, shadow, labels };
}
