/**
 * A topology against a real secured broker: SASL/SCRAM-SHA-256 over TLS, users created when the
 * storage is formatted, a throwaway CA made at start (runtime/local-broker, secured mode). Client
 * settings reach librdkafka through SIGNALPATH_KAFKA_*, as an operator would set them. One broker for
 * the whole file (a start takes ≈ 25 s on two cores).
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { startLocalBroker, type LocalBroker } from '../../runtime/local-broker/local-broker.js';
import { ensureTopics } from '../../runtime/kafka/admin.js';
import { readAll } from '../../runtime/kafka/topic-reader.js';
import { writeRawRecords } from '../../runtime/kafka/topic-writer.js';
import { createTopicSerde } from '../../runtime/serde/index.js';
import { InferenceEventContract } from '../../schemas/index.js';
import { generateInferenceEvents } from '../../lab/generator/simple-stream.js';
import { uniqueName } from '../support/broker.js';
import { headersOf, runCli } from '../support/kafka-fixtures.js';

/** SIGNALPATH_KAFKA_* variables for librdkafka settings. */
function envOf(config: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(config).map(([name, value]) => [`SIGNALPATH_KAFKA_${name.toUpperCase().replaceAll('.', '_')}`, value]));
}

describe('integration: a secured broker (SASL/SCRAM-SHA-256 over TLS)', function () {
  this.timeout(150_000);
  const password = `pw-${randomBytes(12).toString('hex')}`;
  let broker: LocalBroker;

  before(async function () {
    this.timeout(150_000);
    broker = await startLocalBroker({ secured: { users: { monitor: password } } });
  });

  after(async () => {
    await broker?.stop();
  });

  it('runs a topology end to end with the right credentials and the CA', async () => {
    const security = broker.security!;
    expect(security.protocol).to.equal('SASL_SSL');
    const clientConfig = security.clientConfig('monitor');
    const input = uniqueName('sec-in');
    const output = uniqueName('sec-out');
    await ensureTopics(broker.brokers, [{ topic: input, partitions: 2 }], undefined, clientConfig);
    const serde = createTopicSerde({ contract: InferenceEventContract, topic: input });
    const events = [...generateInferenceEvents({ count: 300, seed: 11 }).events];
    await writeRawRecords(broker.brokers, input, events.map((event) => ({ key: event.model_id, ...serde.encode(event) })), clientConfig);

    const exit = await runCli(
      ['run', 'passthrough', '--brokers', broker.brokers, '--group', uniqueName('sec'), '--metrics-port', '0', '--until-idle', '2000', '--quiet', '--topic', `input=${input}`, '--topic', `output=${output}`],
      envOf(clientConfig),
    ).exited;
    const printed = `${exit.stdout}\n${exit.stderr}`;
    expect(exit.code, printed).to.equal(0);
    expect(printed.includes(password), 'the password appears in the output').to.equal(false);
    const copied = (await readAll(broker.brokers, output, undefined, clientConfig)).map((m) => serde.decode(m.value!, headersOf(m)).event_id);
    expect(new Set(copied)).to.deep.equal(new Set(events.map((e) => e.event_id)));
  });

  it('fails at start with a wrong password: promptly, naming the setting, exit code not 0, never the password', async () => {
    const wrong = `wrong-${randomBytes(12).toString('hex')}`;
    const started = Date.now();
    const exit = await runCli(
      ['run', 'passthrough', '--brokers', broker.brokers, '--group', uniqueName('sec-wrong'), '--metrics-port', '0', '--topic', `input=${uniqueName('sec-wrong-in')}`],
      envOf(broker.security!.clientConfig('monitor', wrong)),
    ).exited;
    const elapsedMs = Date.now() - started;
    const printed = `${exit.stdout}\n${exit.stderr}`;
    expect(exit.code, printed).to.not.equal(0);
    expect(printed).to.match(/refused the credentials \(SASL authentication failed\): check SIGNALPATH_KAFKA_SASL_USERNAME and SIGNALPATH_KAFKA_SASL_PASSWORD/);
    expect(printed.includes(wrong), 'the wrong password appears in the output').to.equal(false);
    expect(printed.includes(password), 'the right password appears in the output').to.equal(false);
    console.log(`      secured broker: a wrong password stopped the run with exit ${exit.code} after ${elapsedMs} ms (process start included)`);
  });

  it('fails with a clear certificate error when the client does not trust the CA', async () => {
    const { 'ssl.ca.location': _ca, ...withoutCa } = broker.security!.clientConfig('monitor');
    const exit = await runCli(
      ['run', 'passthrough', '--brokers', broker.brokers, '--group', uniqueName('sec-noca'), '--metrics-port', '0', '--topic', `input=${uniqueName('sec-noca-in')}`],
      // The system's CA bundle, which does not hold the throwaway CA.
      envOf({ ...withoutCa, 'ssl.ca.location': '/etc/ssl/certs/ca-certificates.crt' }),
    ).exited;
    const printed = `${exit.stdout}\n${exit.stderr}`;
    expect(exit.code, printed).to.not.equal(0);
    expect(printed).to.match(/TLS handshake with Kafka at 127\.0\.0\.1:\d+ failed: the broker's certificate is not signed by a CA this client trusts \(certificate verify failed\); set SIGNALPATH_KAFKA_SSL_CA_LOCATION/);
    expect(printed.includes(password)).to.equal(false);
  });
});
