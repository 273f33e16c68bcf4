/**
 * Chaos: fuzzed and poison records mixed at random into good ones — random bytes, Avro with bytes
 * flipped, truncated Avro, values of another schema (with and without its headers), empty values and
 * values far over --max-record-bytes. Proves that bad input is data, not a crash: every poison record
 * is in the dead-letter topic with a reason and its origin, every good record reaches the output, and
 * offsets move past all of them.
 */
import { expect } from 'chai';
import passthrough from '../../topologies/passthrough/index.js';
import { runTopology } from '../../runtime/runner.js';
import { committedOffsets, endOffsets, ensureTopics } from '../../runtime/kafka/admin.js';
import { readAll } from '../../runtime/kafka/topic-reader.js';
import { writeRawRecords } from '../../runtime/kafka/topic-writer.js';
import { OVERSIZE_KEPT_BYTES } from '../../runtime/kafka/source.js';
import { createTopicSerde } from '../../runtime/serde/index.js';
import { DeadLetterContract, InferenceEventContract, MentionContract, type DeadLetter } from '../../schemas/index.js';
import { generateInferenceEvents } from '../../lab/generator/simple-stream.js';
import { SeededRandom } from '../../core/random.js';
import { sharedBroker, uniqueName } from '../support/broker.js';
import { headersOf, testRunConfig } from '../support/kafka-fixtures.js';
import { figures, seconds, sized, tally } from './support/chaos.js';

type RawRecord = { key: string; value: Buffer; headers?: Record<string, Buffer> };
const KINDS = ['random-bytes', 'flipped-bytes', 'truncated', 'other-schema', 'other-schema-our-headers', 'empty', 'huge'] as const;

describe('chaos: fuzzed and poison records', function () {
  const goodCount = sized(5_000, 50_000);
  const poisonCount = sized(1_000, 10_000);
  const maxRecordBytes = 64 * 1024;
  this.timeout(sized(180_000, 600_000));

  it(`dead-letters all ${poisonCount} poison records with reasons and loses none of ${goodCount} good ones`, async () => {
    const { brokers } = await sharedBroker();
    const input = uniqueName('chaos-poison-in');
    const output = uniqueName('chaos-poison-out');
    const dlq = uniqueName('chaos-poison-dlq');
    const group = uniqueName('chaos-poison');
    await ensureTopics(brokers, [{ topic: input, partitions: 4 }]);
    const random = SeededRandom.fromSeed(4_242);
    const pick = (n: number): number => Math.floor(random.nextFloat() * n);
    const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => pick(256)));

    const serde = createTopicSerde({ contract: InferenceEventContract, topic: input });
    const mentionSerde = createTopicSerde({ contract: MentionContract, topic: input });
    const rejects = (record: RawRecord): boolean => {
      try {
        serde.decode(record.value, record.headers ?? {});
        return false;
      } catch {
        return true;
      }
    };
    const events = [...generateInferenceEvents({ count: goodCount, seed: 12 }).events];
    const good: RawRecord[] = events.map((event) => ({ key: event.model_id, ...serde.encode(event) }));
    const mention = (i: number) => ({
      mention_id: `m-${i}`, emitted_at: i, window_start: 0, window_end: 1, model_id: 'model-000', model_version: 'v1', tenant: 't', segment: 's',
      field: 'latency_ms', direction: 'HIGH' as const, detector: 'd', score: 1, cluster_id: 'c', event_count: 1, evidence_event_ids: [], shadow: false, attributes: {},
    });

    // Each poison record is built until it really is poison: a fuzzed value that happens to decode
    // is a good record, not a test of the dead-letter path.
    const poison: (RawRecord & { kind: (typeof KINDS)[number] })[] = [];
    while (poison.length < poisonCount) {
      const i = poison.length;
      const base = good[pick(good.length)]!;
      const kind = i % 100 === 99 ? 'huge' : KINDS[i % (KINDS.length - 1)]!;
      let record: RawRecord;
      if (kind === 'random-bytes') record = { key: base.key, value: bytes(1 + pick(2_000)), headers: base.headers };
      else if (kind === 'flipped-bytes') {
        const value = Buffer.from(base.value);
        for (let flips = 1 + pick(4); flips > 0; flips--) value[pick(value.length)] = pick(256);
        record = { key: base.key, value, headers: base.headers };
      } else if (kind === 'truncated') record = { key: base.key, value: base.value.subarray(0, pick(base.value.length)), headers: base.headers };
      else if (kind === 'other-schema') record = { key: base.key, ...mentionSerde.encode(mention(i)) };
      else if (kind === 'other-schema-our-headers') record = { key: base.key, value: mentionSerde.encode(mention(i)).value, headers: base.headers };
      else if (kind === 'empty') record = { key: base.key, value: Buffer.alloc(0), headers: base.headers };
      else record = { key: base.key, ...serde.encode({ ...events[pick(events.length)]!, event_id: `huge-${i}`, attributes: { blob: 'x'.repeat(100_000 + pick(300_000)) } }) };
      if (kind === 'huge' || rejects(record)) poison.push({ ...record, kind });
    }
    // Poison at seeded random places among the good records.
    const records: RawRecord[] = [...good];
    for (const record of poison) records.splice(pick(records.length + 1), 0, record);
    await writeRawRecords(brokers, input, records);

    const log: string[] = [];
    const running = await runTopology(passthrough, testRunConfig(brokers, { group, topics: { input, output, dlq }, maxRecordBytes, log: (m) => log.push(m) }));
    const summary = await running.done;
    expect(summary.reason, `${summary.error}\n${log.slice(-10).join('\n')}`).to.equal('idle');

    const dlqSerde = createTopicSerde({ contract: DeadLetterContract, topic: dlq });
    const letters: DeadLetter[] = (await readAll(brokers, dlq)).map((m) => dlqSerde.decode(m.value!, headersOf(m)));
    expect(letters).to.have.length(poison.length);
    for (const letter of letters) {
      expect(letter.step).to.equal('decode');
      expect(letter.origin_topic).to.equal(input);
      expect(letter.error.length).to.be.greaterThan(10);
    }
    // The dead letters are exactly the poison records (huge ones by their first bytes only).
    const fingerprint = (value: Buffer): string => value.subarray(0, OVERSIZE_KEPT_BYTES).toString('base64');
    expect(letters.map((l) => fingerprint(l.value)).sort()).to.deep.equal(poison.map((p) => fingerprint(p.value)).sort());
    const huge = letters.filter((l) => l.error.startsWith('RecordTooLargeError'));
    expect(huge).to.have.length(poison.filter((p) => p.kind === 'huge').length);

    const result = await tally(brokers, events.map((e) => e.event_id), output);
    expect(result.lost, `lost ids, e.g. ${result.lostSample.join(', ')}`).to.equal(0);
    expect(result.outputs).to.equal(goodCount);
    const ends = await endOffsets(brokers, input);
    expect(await committedOffsets(brokers, group, input, 4)).to.deep.equal(ends);

    const reasons = new Map<string, number>();
    for (const letter of letters) {
      const reason = letter.error.slice(0, letter.error.indexOf(':'));
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
    figures('poison', {
      good: goodCount,
      poison: poison.length,
      'dead-lettered': letters.length,
      'good lost': result.lost,
      reasons: [...reasons].map(([reason, n]) => `${reason} ${n}`).join(', '),
      'run time': seconds(summary.elapsedMs),
    });
  });
});
