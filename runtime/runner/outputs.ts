/**
 * Where the runner sends what the chain emits: each routed record to its output topic (encoded with
 * its output's contract, keyed, carrying the trace context), and every record that cannot be kept
 * (a step's failure, an encode failure, a record the client refuses) to the dead-letter topic. A
 * record whose partition this instance no longer owns is not produced at all: its next owner does.
 */
import type { Contract } from '../../schemas/index.js';
import type { Envelope, RecordOrigin } from '../../core/envelope.js';
import { createSettlement } from '../../core/settlement.js';
import { deadLetterFor, describeError } from '../dead-letter.js';
import type { MessageHeader } from '../kafka/client.js';
import { toKafkaHeaders } from '../kafka/headers.js';
import type { KafkaSink, RecordRefusedError } from '../kafka/sink.js';
import type { TopicSerde } from '../serde/index.js';
import type { TracedOrigin } from '../telemetry/stage-clock.js';
import type { TopologyTelemetry } from '../telemetry/topology-telemetry.js';
import { TRACEPARENT, TraceIdGenerator } from '../telemetry/trace-context.js';
import type { RoutedEnvelope, Topology } from '../topology.js';

/** One declared output: its topic, serde and key, and its Kafka headers built once per header set. */
export interface OutputRoute {
  readonly topic: string;
  readonly serde: TopicSerde<unknown>;
  readonly key: (value: unknown, envelope: Envelope<unknown>) => string | null;
  lastHeaders?: Readonly<Record<string, Buffer>>;
  kafkaHeaders?: MessageHeader[];
  /**
   * The same headers plus a traceparent slot that is overwritten per record: produce() copies
   * headers into librdkafka synchronously, so one array per output serves every record.
   */
  tracedHeaders?: MessageHeader[];
  traceSlot?: { [TRACEPARENT]: Buffer };
  /** Its records are mentions (the topology's KPI sources say so): counted for the KPIs. */
  mention?: boolean;
}

/** The route per output role: the topic, its serde, and the key (the contract's key field by default). */
export async function createOutputRoutes(
  topology: Topology<unknown>,
  topics: Readonly<Record<string, string>>,
  serdeFor: <T>(role: string, contract: Contract<T>) => Promise<TopicSerde<T>>,
): Promise<Map<string, OutputRoute>> {
  const routes = new Map<string, OutputRoute>();
  for (const [role, spec] of Object.entries(topology.outputs)) {
    const contract = spec.contract as Contract<unknown>;
    const keyField = contract.keyField;
    const key = spec.key
      ? (value: unknown) => spec.key!(value)
      : keyField
        ? (value: unknown) => String((value as Record<string, unknown>)[keyField])
        : (_: unknown, envelope: Envelope<unknown>) => envelope.key;
    routes.set(role, { topic: topics[role]!, serde: await serdeFor(role, contract), key });
  }
  return routes;
}

/** Who owns a record's partition now (the source), and how an abandoned record settles. */
export interface Ownership {
  owns(origin: RecordOrigin): boolean;
  whenLetGo(origin: RecordOrigin, settle: () => void): void;
}

export interface RunOutputsOptions {
  readonly topologyName: string;
  readonly routes: ReadonlyMap<string, OutputRoute>;
  readonly deadLetterTopic: string;
  readonly deadLetterSerde: TopicSerde<unknown>;
  readonly sink: KafkaSink;
  readonly ownership: () => Ownership;
  readonly telemetry: TopologyTelemetry | null;
  /** Outputs and dead letters carry a traceparent. */
  readonly propagate: boolean;
  readonly log: (message: string) => void;
  readonly fail: (error: Error) => void;
}

export class RunOutputs {
  deadLettered = 0;
  /** Outputs of records whose partition was revoked meanwhile: their next owner produces them. */
  abandoned = 0;
  readonly #traceIds = new TraceIdGenerator();

  constructor(private readonly o: RunOutputsOptions) {}

  /** The traceparent an output carries: its input's (same trace, linked back), else a new trace. */
  #traceparentOf(origin: RecordOrigin): Buffer {
    return (origin as TracedOrigin).traceparent ?? this.#traceIds.nextTraceparent(false);
  }

  /** Sends `origin`'s dead letter (failed in `step`); `settle` runs once the broker has it. */
  deadLetter(origin: RecordOrigin, step: string, error: unknown, settle: () => void): void {
    const { o } = this;
    const encoded = o.deadLetterSerde.encode(deadLetterFor(origin, step, error, Date.now()));
    const headers = !o.propagate ? encoded.headers : { ...encoded.headers, [TRACEPARENT]: this.#traceparentOf(origin) };
    // A dead letter the client refuses too cannot be kept anywhere: stop rather than lose the record.
    const refused = (refusedError: RecordRefusedError): void => o.fail(new Error(`the dead letter of ${origin.topic}[${origin.partition}]@${origin.offset} from ${step} was refused too: ${refusedError.message}`));
    o.sink.send(o.deadLetterTopic, origin.key, encoded.value, toKafkaHeaders(headers), null, createSettlement(settle, 'dead letter'), 'dead-lettered', origin, refused);
    const count = ++this.deadLettered;
    o.telemetry?.steps.countFailed(step);
    if (count <= 5 || count % 1000 === 0) o.log(`dead letter #${count} from ${step} (${origin.topic}[${origin.partition}]@${origin.offset}): ${describeError(error)}`);
  }

  /** Produces one record the chain routed to an output. */
  route(routed: RoutedEnvelope): void {
    const { o } = this;
    const ownership = o.ownership();
    if (!ownership.owns(routed.origin)) {
      // Read under an assignment this instance has lost (or is losing, or rewound): never committed
      // here, and read again, so producing it would only duplicate it. Settled once that is safe.
      this.abandoned++;
      ownership.whenLetGo(routed.origin, () => routed.settlement.settle('dropped'));
      return;
    }
    const output = o.routes.get(routed.output);
    if (output === undefined) {
      o.fail(new Error(`topology ${o.topologyName}: a step routed a record to "${routed.output}", which is not a declared output (${[...o.routes.keys()].join(', ')})`));
      return;
    }
    let encoded: { value: Buffer; headers: Readonly<Record<string, Buffer>> };
    try {
      encoded = output.serde.encode(routed.value);
    } catch (error) {
      this.deadLetter(routed.origin, `encode-${routed.output}`, error, () => routed.settlement.settle('dead-lettered'));
      return;
    }
    const headers = this.#headersFor(output, encoded.headers, routed.origin);
    // A record the client refuses (too large, invalid) is a dead letter of its input, not a crash.
    const refused = (error: RecordRefusedError): void => this.deadLetter(routed.origin, `produce-${routed.output}`, error, () => routed.settlement.settle('dead-lettered'));
    o.sink.send(output.topic, output.key(routed.value, routed), encoded.value, headers, null, routed.settlement, 'delivered', routed.origin, refused);
    if (output.mention === true) o.telemetry!.kpis.mentionEmitted(routed.value, Date.now());
  }

  /**
   * Outputs carry their own contract's headers (input headers describe the input's schema). The serde
   * hands out the same header object for every record, so its Kafka form is built once.
   */
  #headersFor(output: OutputRoute, headers: Readonly<Record<string, Buffer>>, origin: RecordOrigin): MessageHeader[] | undefined {
    if (headers !== output.lastHeaders) {
      output.lastHeaders = headers;
      output.kafkaHeaders = toKafkaHeaders(headers);
      output.traceSlot = { [TRACEPARENT]: Buffer.alloc(0) };
      output.tracedHeaders = [...(output.kafkaHeaders ?? []), output.traceSlot];
    }
    if (!this.o.propagate) return output.kafkaHeaders;
    output.traceSlot![TRACEPARENT] = this.#traceparentOf(origin);
    return output.tracedHeaders;
  }
}
