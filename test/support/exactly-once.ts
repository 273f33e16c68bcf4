/**
 * Reading the outputs of an exactly-once run, for the tests that kill one (the integration test and
 * the chaos suite): `read_committed` output must hold every input once, while `read_uncommitted`
 * also shows the records of the transactions the kills aborted.
 */
import type { Message } from '../../runtime/kafka/client.js';
import { readTopic } from '../../runtime/kafka/topic-reader.js';
import { createTopicSerde } from '../../runtime/serde/index.js';
import { InferenceEventContract } from '../../schemas/index.js';
import { headersOf } from './kafka-fixtures.js';

/** Every record of `topic` as a consumer with `isolation` sees it. */
export async function readIsolated(brokers: string, topic: string, isolation: 'read_committed' | 'read_uncommitted'): Promise<Message[]> {
  // Transaction markers take offsets, so "read to the end offset" may never see a record there:
  // read until the topic has been quiet for a while instead.
  const all: Message[] = [];
  for await (const batch of readTopic({ brokers, topic, isolation, toEnd: false, idleMs: 3_000 })) all.push(...batch);
  return all;
}

/** How many times each InferenceEvent id occurs among `messages` (records of `topic`). */
export function countEventIds(topic: string, messages: readonly Message[]): Map<string, number> {
  const serde = createTopicSerde({ contract: InferenceEventContract, topic });
  const seen = new Map<string, number>();
  for (const message of messages) {
    const id = serde.decode(message.value!, headersOf(message)).event_id;
    seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  return seen;
}

export interface ExactlyOnceTally {
  /** Input ids missing from the read_committed output. */
  readonly lost: number;
  /** Ids that occur more than once in the read_committed output. */
  readonly duplicated: number;
  /** Records of aborted transactions: read_uncommitted output beyond one record per input. */
  readonly abortedCopies: number;
  /** A few lost ids, for the assertion message. */
  readonly lostSample: readonly string[];
}

/** Compares an exactly-once run's output (InferenceEvents passed on one for one) with its inputs. */
export async function exactlyOnceTally(brokers: string, inputIds: readonly string[], outputTopic: string): Promise<ExactlyOnceTally> {
  const committed = countEventIds(outputTopic, await readIsolated(brokers, outputTopic, 'read_committed'));
  const uncommitted = countEventIds(outputTopic, await readIsolated(brokers, outputTopic, 'read_uncommitted'));
  const lost = inputIds.filter((id) => !committed.has(id));
  return {
    lost: lost.length,
    duplicated: [...committed.values()].filter((n) => n > 1).length,
    abortedCopies: [...uncommitted.values()].reduce((sum, n) => sum + n, 0) - inputIds.length,
    lostSample: lost.slice(0, 5),
  };
}
