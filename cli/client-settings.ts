/**
 * The Kafka connection a command starts with, in one place: the client settings from
 * SIGNALPATH_KAFKA_* (clientConfigFromEnv in runtime/config.ts, checked before anything connects),
 * the brokers (`--brokers`, KAFKA_BROKERS, or a local broker: brokers.ts), and a line showing which
 * settings took effect — as `run`, `produce`, `tail`, `generate` and `evaluate` print it — so an
 * operator sees which security settings are in use, with credentials by name only.
 */
import { clientConfigFromEnv } from '../runtime/config.js';
import { Redactor } from '../runtime/security/redact.js';
import { connectBrokers, type BrokerConnection } from './brokers.js';

export interface KafkaConnection extends BrokerConnection {
  /** librdkafka settings from SIGNALPATH_KAFKA_*, for every client the command creates; undefined when none. */
  readonly clientConfig: Readonly<Record<string, string>> | undefined;
}

/**
 * Reads the client settings (unless the command read them already, e.g. to redact its log from the
 * start), connects to the brokers and logs the settings. Invalid settings fail before connecting.
 */
export async function connectKafka(
  brokersFlag: string | undefined,
  log: (message: string) => void,
  clientConfig: Readonly<Record<string, string>> | undefined = clientConfigFromEnv(process.env),
): Promise<KafkaConnection> {
  const connection = await connectBrokers(brokersFlag, log);
  logClientConfig(clientConfig, log);
  return { ...connection, clientConfig };
}

/** Logs which client settings took effect (secrets show `[redacted]`); nothing when there are none. */
function logClientConfig(clientConfig: Readonly<Record<string, string>> | undefined, log: (message: string) => void): void {
  if (clientConfig === undefined) return;
  const shown = Redactor.describeClientConfig(clientConfig);
  log(`client settings (SIGNALPATH_KAFKA_*): ${Object.entries(shown).map(([name, value]) => `${name}=${value}`).join(', ')}`);
}
