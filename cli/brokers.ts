/**
 * Where the brokers come from: `--brokers`, else KAFKA_BROKERS, else a local Kafka broker started for
 * this command (and stopped when it ends).
 */
import { ConfigError, readSetting } from '../runtime/config.js';
import { FRAMEWORK_FROM_SOURCE } from '../runtime/project.js';

export interface BrokerConnection {
  readonly brokers: string;
  /** True when this command started a local broker. */
  readonly local: boolean;
  close(): Promise<void>;
}

export async function connectBrokers(flag: string | undefined, log: (message: string) => void): Promise<BrokerConnection> {
  const configured = readSetting('brokers', flag, process.env) as string | undefined;
  if (configured !== undefined) return { brokers: configured, local: false, close: async () => {} };
  // The local broker runs from the Kafka jars a clone of signalpath fetches; the package has none.
  if (!FRAMEWORK_FROM_SOURCE) {
    throw new ConfigError('no brokers: set KAFKA_BROKERS or --brokers (with the compose.yaml of signalpath init: docker compose up -d redpanda, then KAFKA_BROKERS=localhost:19092)');
  }
  log('KAFKA_BROKERS is unset: starting a local Kafka broker (KRaft, 127.0.0.1)…');
  const { startLocalBroker } = await import('../runtime/local-broker/local-broker.js');
  const started = Date.now();
  const broker = await startLocalBroker({ handleSignals: false });
  log(`local broker up at ${broker.brokers} (pid ${broker.pid}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { brokers: broker.brokers, local: true, close: () => broker.stop() };
}
