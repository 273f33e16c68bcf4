/** `signalpath broker`: a local Kafka broker for working against by hand, until Ctrl-C. */
import { startLocalBroker } from '../runtime/local-broker/local-broker.js';

export async function brokerCommand(): Promise<void> {
  const broker = await startLocalBroker({ handleSignals: false });
  console.log(`Kafka is up at ${broker.brokers} (pid ${broker.pid}, data in ${broker.dataDir}).`);
  console.log(`In another shell: export KAFKA_BROKERS=${broker.brokers}`);
  console.log('Ctrl-C stops it.');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await broker.stop();
  console.log('broker stopped');
}
