/**
 * Where the brokers come from: `--brokers`, else KAFKA_BROKERS, else a local Kafka broker started for
 * this command (and stopped when it ends).
 */
import { readSetting } from '../runtime/config.js';

export interface BrokerConnection {
  readonly brokers: string;
  /** True when this command started a local broker. */
  readonly local: boolean;
  close(): Promise<void>;
}

export async function connectBrokers(flag: string | undefined, log: (message: string) => void): Promise<BrokerConnection> {
  const configured = readSetting('brokers', flag, process.env) as string | undefined;
  if (configured !== undefined) return { brokers: configured, local: false, close: async () => {} };
  log('KAFKA_BROKERS is unset: starting a local Kafka broker (KRaft, 127.0.0.1)…');
  const { startLocalBroker } = await import('../runtime/local-broker/local-broker.js');
  const started = Date.now();
  const broker = await startLocalBroker({ handleSignals: false });
  log(`local broker up at ${broker.brokers} (pid ${broker.pid}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { brokers: broker.brokers, local: true, close: () => broker.stop() };
}
