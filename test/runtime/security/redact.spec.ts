import { expect } from 'chai';
import fc from 'fast-check';
import { clientConfigFromEnv, ConfigError } from '../../../runtime/config.js';
import { isSecretSetting, Redactor, REDACTED } from '../../../runtime/security/redact.js';

describe('runtime/security: redaction of credentials', () => {
  it('knows which librdkafka settings hold credentials', () => {
    for (const name of ['sasl.password', 'ssl.key.password', 'ssl.keystore.password', 'sasl.oauthbearer.client.secret', 'ssl.key.pem', 'sasl.oauthbearer.config']) {
      expect(isSecretSetting(name), name).to.equal(true);
    }
    for (const name of ['sasl.username', 'security.protocol', 'sasl.mechanisms', 'ssl.ca.location', 'bootstrap.servers']) {
      expect(isSecretSetting(name), name).to.equal(false);
    }
  });

  it('replaces every occurrence of a configured secret, and only secrets', () => {
    const redactor = Redactor.forClientConfig({ 'sasl.username': 'svc-monitor', 'sasl.password': 'hunter2-Xy!', 'ssl.key.password': 'pem-pass' });
    expect(redactor.redact('auth failed for svc-monitor with hunter2-Xy! (twice: hunter2-Xy!) key pem-pass')).to.equal(
      `auth failed for svc-monitor with ${REDACTED} (twice: ${REDACTED}) key ${REDACTED}`,
    );
    expect(Redactor.describeClientConfig({ 'sasl.username': 'u', 'sasl.password': 'p' })).to.deep.equal({ 'sasl.username': 'u', 'sasl.password': REDACTED });
  });

  it('property: no output line contains a secret, whatever the text and the secrets', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 3, maxLength: 12 }), { minLength: 1, maxLength: 3 }), fc.array(fc.string({ maxLength: 20 }), { maxLength: 6 }), (secrets, pieces) => {
        const redactor = new Redactor(secrets);
        // Lines built from the secrets and arbitrary text around them, and the marker itself.
        const text = pieces.map((piece, i) => `${piece}${secrets[i % secrets.length]}${REDACTED}`).join('');
        const out = redactor.redact(text);
        for (const secret of secrets) expect(out.includes(secret), `${JSON.stringify(secret)} in ${JSON.stringify(out)}`).to.equal(false);
      }),
      { numRuns: 500 },
    );
  });

  it('validates security settings from SIGNALPATH_KAFKA_* without repeating their value', () => {
    expect(clientConfigFromEnv({ SIGNALPATH_KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', SIGNALPATH_KAFKA_SASL_MECHANISMS: 'SCRAM-SHA-512', SIGNALPATH_KAFKA_SASL_PASSWORD: 'p4ss' })).to.deep.equal({
      'security.protocol': 'SASL_SSL',
      'sasl.mechanisms': 'SCRAM-SHA-512',
      'sasl.password': 'p4ss',
    });
    expect(() => clientConfigFromEnv({ SIGNALPATH_KAFKA_SECURITY_PROTOCOL: 'TLS-please' }))
      .to.throw(ConfigError, /SIGNALPATH_KAFKA_SECURITY_PROTOCOL.*expected one of plaintext, ssl, sasl_plaintext, sasl_ssl/)
      .with.property('message')
      .that.does.not.contain('TLS-please');
    expect(() => clientConfigFromEnv({ SIGNALPATH_KAFKA_SASL_MECHANISMS: 'my-secret-password' })).to.throw(ConfigError, /SCRAM-SHA-256/).with.property('message').that.does.not.contain('my-secret-password');
  });
});
