/**
 * Follows a topic of Label records (schemas/label) for the feedback-loop KPIs: every label, from the
 * topic's beginning, is handed on with the time this process received it. Reads without a consumer
 * group (it never disturbs the topology's), so each running instance sees every label and matches
 * those of the mentions it emitted itself. A label that does not decode is logged and skipped: the
 * labels topic is someone else's output, not this topology's input.
 */
import { readTopic } from '../kafka/topic-reader.js';
import { createTopicSerde, decodeResolvingWriter } from '../serde/index.js';
import { LabelContract } from '../../schemas/index.js';
import type { Verdict } from './label-feedback.js';

export interface LabelFollowerOptions {
  readonly brokers: string;
  readonly topic: string;
  readonly onLabel: (mentionId: string, verdict: Verdict, receivedAtMs: number) => void;
  readonly log: (message: string) => void;
  readonly signal: AbortSignal;
}

/** Resolves when `signal` aborts (or the topic cannot be read: logged, not fatal). */
export async function followLabels(options: LabelFollowerOptions): Promise<void> {
  const serde = createTopicSerde({ contract: LabelContract, topic: options.topic });
  let undecodable = 0;
  try {
    await serde.prepare();
    for await (const batch of readTopic({ brokers: options.brokers, topic: options.topic, toEnd: false, signal: options.signal })) {
      const receivedAtMs = Date.now();
      for (const message of batch) {
        if (message.value === null || message.value === undefined) continue;
        const headers: Record<string, Buffer> = {};
        for (const header of message.headers ?? []) for (const [name, value] of Object.entries(header)) headers[name] = value as Buffer;
        try {
          const label = await decodeResolvingWriter(serde, message.value, headers);
          options.onLabel(label.mention_id, label.verdict, receivedAtMs);
        } catch (error) {
          if (++undecodable <= 5) options.log(`labels topic ${options.topic}: skipped an undecodable label at [${message.partition}]@${message.offset}: ${(error as Error).message}`);
        }
      }
    }
  } catch (error) {
    options.log(`labels topic ${options.topic}: cannot follow it (${(error as Error).message}); feedback KPIs stay empty`);
  }
}
