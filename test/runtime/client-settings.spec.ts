/**
 * connectKafka (cli/client-settings.ts), the one place every Kafka command takes its client
 * settings and brokers from — without a broker (`--brokers` given, nothing connects yet): the
 * settings from SIGNALPATH_KAFKA_* come back for the command's clients and are logged with the
 * credentials redacted; an invalid one fails before the brokers are touched.
 */
import { expect } from 'chai';
import { connectKafka } from '../../cli/client-settings.js';
import { ConfigError } from '../../runtime/config.js';

describe('connectKafka: client settings of a CLI command', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  });
  const clearKafkaSettings = (): void => {
    for (const name of Object.keys(process.env)) if (name.startsWith('SIGNALPATH_KAFKA_')) delete process.env[name];
  };

  it('reads SIGNALPATH_KAFKA_*, returns them with the brokers, and logs them with the password redacted', async () => {
    clearKafkaSettings();
    Object.assign(process.env, { SIGNALPATH_KAFKA_SECURITY_PROTOCOL: 'sasl_plaintext', SIGNALPATH_KAFKA_SASL_MECHANISMS: 'PLAIN', SIGNALPATH_KAFKA_SASL_USERNAME: 'monitor', SIGNALPATH_KAFKA_SASL_PASSWORD: 'hunter2-secret' });
    const lines: string[] = [];
    const connection = await connectKafka('127.0.0.1:19092', (line) => lines.push(line));
    expect(connection).to.include({ brokers: '127.0.0.1:19092', local: false });
    expect(connection.clientConfig).to.deep.equal({ 'security.protocol': 'sasl_plaintext', 'sasl.mechanisms': 'PLAIN', 'sasl.username': 'monitor', 'sasl.password': 'hunter2-secret' });
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/^client settings \(SIGNALPATH_KAFKA_\*\): .*sasl\.username=monitor.*sasl\.password=\[redacted\]/);
    expect(lines.join('\n')).to.not.include('hunter2');
    await connection.close();
  });

  it('logs nothing and passes no settings when none are set; takes settings a command read already', async () => {
    clearKafkaSettings();
    const lines: string[] = [];
    const plain = await connectKafka('127.0.0.1:19092', (line) => lines.push(line));
    expect(plain.clientConfig).to.equal(undefined);
    expect(lines).to.deep.equal([]);
    const given = await connectKafka('127.0.0.1:19092', (line) => lines.push(line), { 'client.rack': 'r1' });
    expect(given.clientConfig).to.deep.equal({ 'client.rack': 'r1' });
    expect(lines).to.deep.equal(['client settings (SIGNALPATH_KAFKA_*): client.rack=r1']);
  });

  it('fails on an invalid setting with a ConfigError naming the variable, without echoing the value', async () => {
    clearKafkaSettings();
    process.env['SIGNALPATH_KAFKA_SASL_MECHANISM'] = 'hunter2-secret';
    const lines: string[] = [];
    let failure: unknown;
    await connectKafka('127.0.0.1:19092', (line) => lines.push(line)).catch((error: unknown) => (failure = error));
    expect(failure).to.be.instanceOf(ConfigError).with.property('message').match(/SIGNALPATH_KAFKA_SASL_MECHANISM/);
    expect((failure as Error).message).to.not.include('hunter2');
    expect(lines).to.deep.equal([]);
  });
});
