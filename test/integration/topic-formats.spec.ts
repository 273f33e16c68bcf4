/**
 * Producers outside signalpath feed a topology on the real broker, each in its own format: plain Avro
 * without signalpath's headers, JSON, and the Confluent wire format through a schema registry over
 * HTTP. Records in a format other than the configured one are dead-lettered with a reason that names
 * the setting to change; nothing is lost and the run goes on.
 */
import { expect } from 'chai';
import passthrough from '../../topologies/passthrough/index.js';
import { runTopology } from '../../runtime/runner.js';
import { ensureTopics } from '../../runtime/kafka/admin.js';
import { readAll } from '../../runtime/kafka/topic-reader.js';
import { writeRawRecords } from '../../runtime/kafka/topic-writer.js';
import { createTopicSerde, decodeResolvingWriter } from '../../runtime/serde/index.js';
import type { RunConfig } from '../../runtime/config.js';
import { DeadLetterContract, InferenceEventContract, MentionContract, type InferenceEvent, type Mention } from '../../schemas/index.js';
import { generateStream } from '../../lab/generator/index.js';
import { scoreMentions } from '../../lab/evaluate/index.js';
import { readModelMonitorConfig } from '../../topologies/model-monitor/config.js';
import { createModelMonitor } from '../../topologies/model-monitor/topology.js';
import { generateInferenceEvents } from '../../lab/generator/simple-stream.js';
import { sharedBroker, uniqueName } from '../support/broker.js';
import { headersOf, testRunConfig } from '../support/kafka-fixtures.js';
import { startHttpSchemaRegistry, type HttpSchemaRegistry } from '../support/http-schema-registry.js';

describe('integration: topic formats (records from producers outside signalpath)', function () {
  this.timeout(120_000);
  let brokers: string;
  let registry: HttpSchemaRegistry;
  const events = [...generateInferenceEvents({ count: 400, seed: 21 }).events];
  const idsOf = (list: readonly InferenceEvent[]): Set<string> => new Set(list.map((e) => e.event_id));

  before(async () => {
    brokers = (await sharedBroker()).brokers;
    registry = await startHttpSchemaRegistry();
  });
  after(async () => registry?.close());

  /** Writes `records` to a fresh input, runs passthrough until idle, and returns its output and dead letters. */
  async function runWith(records: { key: string | null; value: Buffer }[], overrides: Partial<RunConfig>) {
    const input = uniqueName('fmt-in');
    const output = uniqueName('fmt-out');
    const dlq = uniqueName('fmt-dlq');
    await ensureTopics(brokers, [{ topic: input, partitions: 2 }]);
    await writeRawRecords(brokers, input, records);
    const running = await runTopology(passthrough, testRunConfig(brokers, { group: uniqueName('fmt'), topics: { input, output, dlq }, ...overrides }));
    const summary = await running.done;
    expect(summary.reason, summary.error).to.equal('idle');
    const outSerde = createTopicSerde({ contract: InferenceEventContract, topic: output });
    const dlqSerde = createTopicSerde({ contract: DeadLetterContract, topic: dlq });
    return {
      output: (await readAll(brokers, output)).map((m) => outSerde.decode(m.value!, headersOf(m))),
      letters: (await readAll(brokers, dlq)).map((m) => dlqSerde.decode(m.value!, headersOf(m))),
    };
  }

  it('plain Avro without sp-schema headers is read as the declared contract; a wire-format record there is dead-lettered naming --format', async () => {
    const records = events.map((e) => ({ key: e.model_id, value: InferenceEventContract.type.toBuffer(e) }));
    const wire = Buffer.concat([Buffer.from([0, 0, 0, 0, 42]), InferenceEventContract.type.toBuffer(events[0]!)]);
    records.splice(50, 0, { key: 'stray', value: wire });
    const { output, letters } = await runWith(records, {});
    expect(idsOf(output)).to.deep.equal(idsOf(events));
    expect(output).to.have.length(events.length);
    expect(letters).to.have.length(1);
    expect(letters[0]!.error).to.include('Confluent wire format (magic byte 0, schema id 42)');
    expect(letters[0]!.error).to.include('--format input=avro-confluent');
  });

  it('JSON producers: valid objects flow through, an invalid one is dead-lettered with its field path', async () => {
    const records = events.map((e) => ({ key: e.model_id, value: Buffer.from(JSON.stringify(e)) }));
    records.splice(10, 0, { key: 'bad', value: Buffer.from(JSON.stringify({ ...events[3]!, input_tokens: 'many' })) });
    const { output, letters } = await runWith(records, { formats: { input: 'json' } });
    expect(idsOf(output)).to.deep.equal(idsOf(events));
    expect(output).to.have.length(events.length);
    expect(letters).to.have.length(1);
    expect(letters[0]!.error).to.include('inferenceEvent.input_tokens: "many" is not an int');
  });

  it('Confluent wire-format producers through a schema registry over HTTP, output in wire format too', async () => {
    const producerSerde = createTopicSerde({ contract: InferenceEventContract, topic: 'external-events', schemaRegistry: { url: registry.url } });
    await producerSerde.prepare();
    const records = events.map((e) => ({ key: e.model_id, value: producerSerde.encode(e).value }));
    // A record signalpath wrote in plain Avro, on a wire-format topic: dead-lettered, naming the setting.
    const plain = createTopicSerde({ contract: InferenceEventContract }).encode(events[0]!);
    const input = uniqueName('fmt-wire-in');
    const output = uniqueName('fmt-wire-out');
    const dlq = uniqueName('fmt-wire-dlq');
    await ensureTopics(brokers, [{ topic: input, partitions: 2 }]);
    await writeRawRecords(brokers, input, [...records, { key: 'plain', value: plain.value, headers: plain.headers }]);
    const running = await runTopology(
      passthrough,
      testRunConfig(brokers, { group: uniqueName('fmt-wire'), topics: { input, output, dlq }, schemaRegistryUrl: registry.url, formats: { dlq: 'avro' } }),
    );
    const summary = await running.done;
    expect(summary.reason, summary.error).to.equal('idle');

    const reader = createTopicSerde({ contract: InferenceEventContract, topic: output, schemaRegistry: { url: registry.url } });
    const copied: InferenceEvent[] = [];
    for (const m of await readAll(brokers, output)) {
      expect(m.value![0]).to.equal(0); // the output is in the wire format as well
      copied.push(await decodeResolvingWriter(reader, m.value!, headersOf(m)));
    }
    expect(idsOf(copied)).to.deep.equal(idsOf(events));
    const dlqSerde = createTopicSerde({ contract: DeadLetterContract, topic: dlq });
    const letters = (await readAll(brokers, dlq)).map((m) => dlqSerde.decode(m.value!, headersOf(m)));
    expect(letters).to.have.length(1);
    expect(letters[0]!.error).to.include('--format input=avro');
    expect(registry.requests).to.include('GET /schemas/ids/{id}');
  });

  // The reference topology read from each kind of outside producer: every record monitored, nothing
  // dead-lettered, an injected incident mentioned (model-monitor without a model registry: enrichment off).
  for (const format of ['avro', 'json', 'avro-confluent'] as const) {
    it(`model-monitor end to end from a producer of ${format}: every record monitored, incidents mentioned`, async () => {
      // 10 events/s: 50 min of event time, so incidents (5–12 % of the span) last minutes, as real ones
      // do — model-monitor reports a shift once it has lasted a minute (MODEL_MONITOR_SKETCH_MIN_EPISODE_MS).
      const stream = generateStream({ count: 30_000, seed: 11, models: 8, incidents: 6, eventsPerSecond: 10 });
      const generated = [...stream.events];
      const wire = createTopicSerde({ contract: InferenceEventContract, topic: 'mm-external-events', schemaRegistry: { url: registry.url } });
      await wire.prepare();
      const encode = (e: InferenceEvent): Buffer =>
        format === 'json' ? Buffer.from(JSON.stringify(e)) : format === 'avro' ? InferenceEventContract.type.toBuffer(e) : wire.encode(e).value;
      const input = uniqueName(`mm-${format}-in`);
      const mentionsTopic = uniqueName(`mm-${format}-mentions`);
      const dlq = uniqueName(`mm-${format}-dlq`);
      await ensureTopics(brokers, [{ topic: input, partitions: 4 }]);
      await writeRawRecords(brokers, input, generated.map((e) => ({ key: e.model_id, value: encode(e) })));
      const { topology, probe } = createModelMonitor(readModelMonitorConfig({}));
      const running = await runTopology(
        topology,
        testRunConfig(brokers, {
          group: uniqueName(`mm-${format}`),
          topics: { input, mentions: mentionsTopic, review: `${mentionsTopic}.review`, dlq },
          maxUnsettled: 100_000,
          partitionHighWater: 50_000,
          partitionIdleTimeoutMs: 2_000,
          allowedLatenessMs: 5_000,
          ...(format === 'avro-confluent' ? { schemaRegistryUrl: registry.url, formats: { dlq: 'avro' as const } } : { formats: { input: format } }),
        }),
      );
      const summary = await running.done;
      expect(summary.reason, summary.error).to.equal('idle');
      expect(summary.consumed).to.equal(generated.length);
      expect(summary.deadLettered, 'nothing dead-lettered').to.equal(0);
      expect(probe.validated).to.equal(generated.length);
      const reader = createTopicSerde({ contract: MentionContract, topic: mentionsTopic, ...(format === 'avro-confluent' ? { schemaRegistry: { url: registry.url } } : {}) });
      const mentions: Mention[] = [];
      for (const m of await readAll(brokers, mentionsTopic)) mentions.push(await decodeResolvingWriter(reader, m.value!, headersOf(m)));
      const score = scoreMentions(mentions, stream.truth());
      expect(score.incidents_detected, `${mentions.length} mentions`).to.be.at.least(1);
    });
  }
});
