/**
 * `signalpath/testing` — the topology test driver: a topology's steps on values with explicit event
 * times, no broker; what each output received, what was dead-lettered and how every input settled.
 *
 * ```ts
 * import { TopologyTestDriver } from 'signalpath/testing';
 * const result = new TopologyTestDriver(topology).pipe(records).complete();
 * ```
 */
export { TopologyTestDriver, type DriverDeadLetter, type DriverResult, type TestRecord } from './topology-test-driver.js';
export { testEnvelope, type TestEnvelopeOptions } from '../../core/envelope.js';
