/** The real broker the integration tests run against, started once per test run. */
import { startLocalBroker, type LocalBroker } from '../../runtime/local-broker/local-broker.js';

let broker: Promise<LocalBroker> | null = null;

/** Starts the shared broker on first use; integration suites call it in `before` (timeout ≥ 120 s). */
export function sharedBroker(): Promise<LocalBroker> {
  broker ??= startLocalBroker();
  return broker;
}

export async function stopSharedBroker(): Promise<void> {
  if (broker === null) return;
  const started = broker;
  broker = null;
  await (await started).stop();
}

let counter = 0;
/** A topic or group name no other test uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
}
