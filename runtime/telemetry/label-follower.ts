/**
 * Follows a topic of Label records (schemas/label) for the feedback-loop KPIs: every label, from the
 * topic's beginning, is handed on with the time this process received it. Reads without a consumer
 * group (it never disturbs the topology's), so each running instance sees every label and matches
 * those of the mentions it emitted itself. A label that does not decode is logged and skipped: the
 * labels topic is someone else's output, not this topology's input. A topic that cannot be read yet
 * (just created: no partition metadata or leader) is retried every second; labels already handed on
 * are not handed on again.
 */
import { endOffsets } from '../kafka/admin.js';
import { readTopic } from '../kafka/topic-reader.js';
import type { ClientConfig } from '../kafka/client.js';
import { createTopicSerde, decodeResolvingWriter } from '../serde/index.js';
import { LabelContract, type Label } from '../../schemas/index.js';
import type { Verdict } from './label-feedback.js';
import { fromKafkaHeaders } from '../kafka/headers.js';

export interface LabelFollowerOptions {
  readonly brokers: string;
  readonly topic: string;
  readonly onLabel: (mentionId: string, verdict: Verdict, receivedAtMs: number) => void;
  readonly log: (message: string) => void;
  readonly signal: AbortSignal;
  /** The run's client settings (SASL/TLS). */
  readonly clientConfig?: ClientConfig;
}

const RETRY_MS = 1000;

/** Resolves when `signal` aborts; read errors are logged (once per kind) and retried, never fatal. */
export async function followLabels(options: LabelFollowerOptions): Promise<void> {
  const serde = createTopicSerde({ contract: LabelContract, topic: options.topic });
  let prepared = false;
  /** Next offset to hand on, per partition: a retry re-reads from the start and skips what was seen. */
  const nextOffset = new Map<number, number>();
  const reported = new Set<string>();
  while (!options.signal.aborted) {
    try {
      if (!prepared) await serde.prepare();
      prepared = true;
      if ((await endOffsets(options.brokers, options.topic, undefined, options.clientConfig)).length === 0) throw new Error('no partitions yet');
      await handOn(options, serde, nextOffset);
    } catch (error) {
      const message = (error as Error).message;
      if (!reported.has(message)) {
        reported.add(message);
        options.log(`labels topic ${options.topic}: cannot read it yet (${message}); retrying every ${RETRY_MS} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref());
    }
  }
}

async function handOn(options: LabelFollowerOptions, serde: ReturnType<typeof createTopicSerde<Label>>, nextOffset: Map<number, number>): Promise<void> {
  let undecodable = 0;
  for await (const batch of readTopic({ brokers: options.brokers, topic: options.topic, toEnd: false, signal: options.signal, clientConfig: options.clientConfig })) {
    const receivedAtMs = Date.now();
    for (const message of batch) {
      if (message.offset < (nextOffset.get(message.partition) ?? 0)) continue;
      nextOffset.set(message.partition, message.offset + 1);
      if (message.value === null || message.value === undefined) continue;
      const headers = fromKafkaHeaders(message.headers);
      try {
        const label = await decodeResolvingWriter(serde, message.value, headers);
        options.onLabel(label.mention_id, label.verdict, receivedAtMs);
      } catch (error) {
        if (++undecodable <= 5) options.log(`labels topic ${options.topic}: skipped an undecodable label at [${message.partition}]@${message.offset}: ${(error as Error).message}`);
      }
    }
  }
}
