/**
 * The Kafka sink: produces records with idempotence on, and settles each record's {@link Settlement}
 * from the broker's delivery report — so an input offset is committed only after its outputs are
 * durable. The settlement travels as the message's opaque, which costs no lookup on delivery.
 *
 * A record the producer could not deliver after librdkafka's own retries is fatal to the topology:
 * its input stays unsettled (never committed) and the run stops with the error, to be re-read after
 * a restart, rather than being silently skipped.
 */
import type { Settlement, SettlementOutcome } from '../settlement.js';
import { CODES, Producer, type LibrdKafkaError, type MessageHeader, type ProducerInstance } from './client.js';

export interface KafkaSinkOptions {
  readonly brokers: string;
  readonly clientId: string;
  /** Extra librdkafka settings (e.g. security), applied last. */
  readonly clientConfig?: Readonly<Record<string, string | number | boolean>>;
}

interface Pending {
  readonly settlement: Settlement;
  readonly outcome: SettlementOutcome;
}

export class KafkaSink {
  produced = 0;
  delivered = 0;
  #producer: ProducerInstance;
  #fatal: (error: Error) => void = (error) => {
    throw error;
  };
  #flushedWaiters: (() => void)[] = [];

  constructor(options: KafkaSinkOptions) {
    this.#producer = new Producer({
      'bootstrap.servers': options.brokers,
      'client.id': options.clientId,
      'enable.idempotence': true,
      dr_cb: true,
      'linger.ms': 5,
      'batch.size': 1_000_000,
      'compression.type': 'lz4',
      // The source bounds what is in flight; this only has to be larger than that bound × fan-out.
      'queue.buffering.max.messages': 2_000_000,
      'queue.buffering.max.kbytes': 1_048_576,
      log_level: 3,
      ...options.clientConfig,
    });
    this.#producer.on('delivery-report', (err: LibrdKafkaError | null, report: { opaque?: unknown }) => {
      const pending = report.opaque as Pending;
      if (err) {
        this.#fatal(new Error(`delivery to Kafka failed after retries: ${err.message}`));
        return;
      }
      this.delivered++;
      pending.settlement.settle(pending.outcome);
      if (this.delivered === this.produced && this.#flushedWaiters.length > 0) {
        for (const waiter of this.#flushedWaiters.splice(0)) waiter();
      }
    });
  }

  async connect(onFatal: (error: Error) => void): Promise<void> {
    this.#fatal = onFatal;
    await new Promise<void>((resolve, reject) =>
      this.#producer.connect({ timeout: 15_000 }, (err) => (err ? reject(new Error(`cannot reach Kafka: ${err.message}`)) : resolve())),
    );
    // Delivery reports are served by poll(); 5 ms keeps settlement latency low at little cost.
    this.#producer.setPollInterval(5);
  }

  /** Produces one record; `settlement` settles with `outcome` when the broker acknowledges it. */
  send(topic: string, key: string | Buffer | null, value: Buffer, headers: MessageHeader[] | undefined, timestampMs: number | null, settlement: Settlement, outcome: SettlementOutcome = 'delivered'): void {
    const pending: Pending = { settlement, outcome };
    for (let attempt = 0; ; attempt++) {
      try {
        this.#producer.produce(topic, null, value, key, timestampMs, pending, headers);
        this.produced++;
        return;
      } catch (error) {
        // Queue full: serve delivery reports to make room, a bounded number of times.
        if ((error as LibrdKafkaError).code === CODES.ERRORS.ERR__QUEUE_FULL && attempt < 100) {
          this.#producer.poll();
          continue;
        }
        throw error;
      }
    }
  }

  /** Resolves when every produced record has been acknowledged, or after `timeoutMs` (false then). */
  async flush(timeoutMs: number): Promise<boolean> {
    if (this.delivered === this.produced) return true;
    const done = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#flushedWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    this.#producer.flush(timeoutMs, () => {});
    return done;
  }

  get inFlight(): number {
    return this.produced - this.delivered;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#producer.disconnect(() => resolve()));
  }
}
