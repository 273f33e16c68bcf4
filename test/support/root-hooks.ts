/**
 * Mocha root hooks. Integration suites share one real Kafka broker (KRaft, from Maven jars), started
 * the first time a suite asks for it and stopped after the whole run — on failure too, and on Ctrl-C
 * (the local-broker module kills its JVM on exit and on SIGINT/SIGTERM).
 */
import { stopSharedBroker } from './broker.js';

export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(30_000);
    await stopSharedBroker();
  },
};
