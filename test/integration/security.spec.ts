/**
 * Security basics against the real broker: a run configured with a SASL password (against a broker
 * that does not speak SASL) never prints the password, and a record over --max-record-bytes goes to
 * the dead-letter topic with the reason instead of into decoding.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import passthrough from '../../topologies/passthrough/index.js';
import { runTopology } from '../../runtime/runner.js';
import { committedOffsets, endOffsets, ensureTopics } from '../../runtime/kafka/admin.js';
import { readAll } from '../../runtime/kafka/topic-reader.js';
import { writeRawRecords } from '../../runtime/kafka/topic-writer.js';
import { OVERSIZE_KEPT_BYTES } from '../../runtime/kafka/source.js';
import { createTopicSerde } from '../../runtime/serde/index.js';
import { DeadLetterContract, InferenceEventContract } from '../../schemas/index.js';
import { generateInferenceEvents } from '../../lab/generator/simple-stream.js';
import { sharedBroker, uniqueName } from '../support/broker.js';
import { headersOf, readEvents, runCli, testRunConfig } from '../support/kafka-fixtures.js';

describe('integration: security basics', function () {
  this.timeout(120_000);
  let brokers: string;

  before(async () => {
    brokers = (await sharedBroker()).brokers;
  });

  it('never prints the SASL password, in logs or in the error that stops the run', async () => {
    const password = `pw-${randomBytes(12).toString('hex')}`;
    const run = runCli(['run', 'passthrough', '--brokers', brokers, '--group', uniqueName('sasl'), '--metrics-port', '0', '--topic', `input=${uniqueName('sasl-in')}`], {
      SIGNALPATH_KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT',
      SIGNALPATH_KAFKA_SASL_MECHANISMS: 'PLAIN',
      SIGNALPATH_KAFKA_SASL_USERNAME: 'monitor',
      SIGNALPATH_KAFKA_SASL_PASSWORD: password,
      // librdkafka's own debug output goes through the same stderr: turn on what would show config.
      SIGNALPATH_KAFKA_DEBUG: 'security,broker',
    });
    const exit = await run.exited;
    const output = `${exit.stdout}\n${exit.stderr}`;
    expect(exit.code, output).to.not.equal(0);
    expect(output).to.match(/cannot reach Kafka at/);
    // The settings are printed (so an operator sees what took effect), the password only by name.
    expect(output).to.match(/client settings \(SIGNALPATH_KAFKA_\*\):.*sasl\.username=monitor.*sasl\.password=\[redacted\]/);
    expect(output.includes(password), 'the password appears in the output').to.equal(false);
    console.log(`      security: SASL run against a plaintext broker failed (exit ${exit.code}) with ${output.length} chars of output, password not among them`);
  });

  it('does not echo a credential given in a setting that is validated (a password in the mechanism variable)', async () => {
    const password = `pw-${randomBytes(12).toString('hex')}`;
    const exit = await runCli(['run', 'passthrough', '--brokers', brokers, '--metrics-port', '0'], { SIGNALPATH_KAFKA_SASL_MECHANISMS: password }).exited;
    expect(exit.code).to.equal(2);
    expect(exit.stderr).to.match(/SIGNALPATH_KAFKA_SASL_MECHANISMS.*expected one of/);
    expect(`${exit.stdout}${exit.stderr}`.includes(password)).to.equal(false);
  });

  it('dead-letters a record over --max-record-bytes with the reason and its first bytes only, and loses no good record', async () => {
    const input = uniqueName('big-in');
    const output = uniqueName('big-out');
    const dlq = uniqueName('big-dlq');
    const group = uniqueName('big');
    await ensureTopics(brokers, [{ topic: input, partitions: 2 }]);
    const serde = createTopicSerde({ contract: InferenceEventContract, topic: input });
    const events = [...generateInferenceEvents({ count: 500, seed: 5 }).events];
    const huge = { ...events[7]!, attributes: { blob: 'x'.repeat(200_000) } };
    const records = events.map((event) => ({ key: event.model_id, ...serde.encode(event) }));
    records.splice(100, 0, { key: huge.model_id, ...serde.encode(huge) });

    await writeRawRecords(brokers, input, records);
    const maxRecordBytes = 64 * 1024;
    const running = await runTopology(passthrough, testRunConfig(brokers, { group, topics: { input, output, dlq }, maxRecordBytes }));
    const summary = await running.done;
    expect(summary.reason, summary.error).to.equal('idle');

    const dlqSerde = createTopicSerde({ contract: DeadLetterContract, topic: dlq });
    const letters = (await readAll(brokers, dlq)).map((m) => dlqSerde.decode(m.value!, headersOf(m)));
    expect(letters).to.have.length(1);
    expect(letters[0]!.step).to.equal('decode');
    expect(letters[0]!.error).to.match(/RecordTooLargeError: record value is \d+ bytes, over the limit of 65536 \(--max-record-bytes/);
    expect(letters[0]!.value.length).to.equal(OVERSIZE_KEPT_BYTES);
    expect(letters[0]!.origin_topic).to.equal(input);

    const outputs = new Set((await readEvents(brokers, output)).map((o) => o.event.event_id));
    expect(outputs.size).to.equal(events.length);
    const ends = await endOffsets(brokers, input);
    expect(await committedOffsets(brokers, group, input, ends.length)).to.deep.equal(ends);
  });
});
