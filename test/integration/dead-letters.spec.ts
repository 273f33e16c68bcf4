/**
 * Poison records (truncated Avro, random bytes, a value of another contract, no value at all) mixed
 * into good ones, and a step that throws: each bad record lands in the dead-letter topic with its
 * reason, step, origin and original bytes; every good record is processed; offsets pass them all.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import picky from '../fixtures/topologies/picky.js';
import { runTopology } from '../../runtime/runner.js';
import { committedOffsets, endOffsets, ensureTopics } from '../../runtime/kafka/admin.js';
import { readAll } from '../../runtime/kafka/topic-reader.js';
import { writeRawRecords } from '../../runtime/kafka/topic-writer.js';
import { createTopicSerde } from '../../runtime/serde/index.js';
import { DeadLetterContract, InferenceEventContract, MentionContract, type DeadLetter } from '../../schemas/index.js';
import { generateInferenceEvents } from '../../lab/generator/simple-stream.js';
import { sharedBroker, uniqueName } from '../support/broker.js';
import { headersOf, readEvents, testRunConfig } from '../support/kafka-fixtures.js';

describe('integration: dead letters', function () {
  this.timeout(180_000);
  let brokers: string;

  before(async () => {
    brokers = (await sharedBroker()).brokers;
  });

  it('dead-letters poison records and step failures with reason and original bytes, and loses no good record', async () => {
    const input = uniqueName('picky-in');
    const output = uniqueName('picky-out');
    const dlq = uniqueName('picky-dlq');
    const group = uniqueName('picky');
    await ensureTopics(brokers, [{ topic: input, partitions: 4 }]);

    const eventSerde = createTopicSerde({ contract: InferenceEventContract, topic: input });
    const mentionSerde = createTopicSerde({ contract: MentionContract, topic: input });
    const events = [...generateInferenceEvents({ count: 5_000, seed: 11 }).events];
    const good = events.map((event) => ({ key: event.model_id, ...eventSerde.encode(event) }));
    const sampleMention = {
      mention_id: 'm-1', emitted_at: 1, window_start: 0, window_end: 1, model_id: 'model-000', model_version: 'v1', tenant: 't', segment: 's',
      field: 'latency_ms', direction: 'HIGH' as const, detector: 'd', score: 1, cluster_id: 'c', event_count: 1, evidence_event_ids: [], shadow: false, attributes: {},
    };
    const poison: { key: string; value: Buffer; headers?: Record<string, Buffer>; kind: string }[] = [];
    for (let i = 0; i < 60; i++) {
      const source = good[i * 50]!;
      const kind = ['truncated', 'random', 'wrong-schema', 'wrong-schema-no-header'][i % 4]!;
      if (kind === 'truncated') poison.push({ kind, key: source.key, value: source.value.subarray(0, Math.floor(source.value.length / 2)), headers: source.headers });
      else if (kind === 'random') poison.push({ kind, key: source.key, value: randomBytes(40 + i), headers: source.headers });
      else if (kind === 'wrong-schema') poison.push({ kind, key: source.key, ...mentionSerde.encode(sampleMention) });
      else poison.push({ kind, key: source.key, value: mentionSerde.encode(sampleMention).value, headers: source.headers });
    }
    // Interleave: a poison record after every 80 good ones.
    const records: { key: string; value: Buffer; headers?: Record<string, Buffer> }[] = [];
    good.forEach((record, i) => {
      records.push(record);
      if (i % 80 === 79 && poison[Math.floor(i / 80)]) records.push(poison[Math.floor(i / 80)]!);
    });
    await writeRawRecords(brokers, input, records);

    const running = await runTopology(picky, testRunConfig(brokers, { group, topics: { input, output, dlq } }));
    const summary = await running.done;
    expect(summary.reason, summary.error).to.equal('idle');

    const failing = events.filter((e) => e.segment === 'research');
    expect(failing.length).to.be.greaterThan(10);
    const dlqSerde = createTopicSerde({ contract: DeadLetterContract, topic: dlq });
    const letters: DeadLetter[] = (await readAll(brokers, dlq)).map((m) => dlqSerde.decode(m.value!, headersOf(m)));
    const placedPoison = poison.slice(0, Math.floor(good.length / 80));
    expect(letters.length).to.equal(placedPoison.length + failing.length);

    const decodeLetters = letters.filter((l) => l.step === 'decode');
    expect(decodeLetters.map((l) => l.value.toString('base64')).sort()).to.deep.equal(placedPoison.map((p) => p.value.toString('base64')).sort());
    for (const letter of decodeLetters) {
      expect(letter.origin_topic).to.equal(input);
      expect(letter.error).to.match(/SchemaDecodeError|schema|truncated|bytes/i);
      expect(letter.key?.toString()).to.match(/^model-/);
    }
    const stepLetters = letters.filter((l) => l.step === 'check-segment');
    expect(stepLetters).to.have.length(failing.length);
    expect(stepLetters[0]!.error).to.contain('segment research is not served');
    // The original bytes of a step failure decode to the very event that failed.
    expect(new Set(stepLetters.map((l) => eventSerde.decode(l.value, { 'sp-schema': Buffer.from(InferenceEventContract.name), 'sp-schema-version': Buffer.from('1') }).event_id))).to.deep.equal(new Set(failing.map((e) => e.event_id)));

    const outputs = await readEvents(brokers, output);
    expect(new Set(outputs.map((o) => o.event.event_id))).to.deep.equal(new Set(events.filter((e) => e.segment !== 'research').map((e) => e.event_id)));

    const ends = await endOffsets(brokers, input);
    expect(await committedOffsets(brokers, group, input, ends.length)).to.deep.equal(ends);
  });
});
