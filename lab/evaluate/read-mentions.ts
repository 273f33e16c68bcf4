/**
 * The mentions a run emitted: a mentions topic read from its beginning to its current end (what the
 * evaluation scores, and what the demo and the lab runs count).
 */
import { MentionContract, type Mention } from '../../schemas/index.js';
import type { ClientConfig } from '../../runtime/kafka/client.js';
import { readAll } from '../../runtime/kafka/topic-reader.js';
import { createTopicSerde } from '../../runtime/serde/index.js';
import { fromKafkaHeaders } from '../../runtime/kafka/headers.js';

/** Every mention on `topic` (beginning to end) emitted at or after `sinceMs`. */
export async function readMentions(brokers: string, topic: string, sinceMs = 0, clientConfig?: ClientConfig): Promise<Mention[]> {
  const serde = createTopicSerde({ contract: MentionContract, topic });
  const mentions: Mention[] = [];
  for (const message of await readAll(brokers, topic, undefined, clientConfig)) {
    if (message.value === null) continue;
    const headers = fromKafkaHeaders(message.headers);
    const mention = serde.decode(message.value, headers);
    if (mention.emitted_at >= sinceMs) mentions.push(mention);
  }
  return mentions;
}
