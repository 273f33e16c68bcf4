/**
 * Showing the Kafka client settings a command took from SIGNALPATH_KAFKA_* (clientConfigFromEnv in
 * runtime/config.ts), as `run`, `produce`, `tail`, `generate` and `evaluate` print them: so an
 * operator sees which security settings took effect, with credentials by name only.
 */
import { Redactor } from '../security/redact.js';

/** Logs which client settings took effect (secrets show `[redacted]`); nothing when there are none. */
export function logClientConfig(clientConfig: Readonly<Record<string, string>> | undefined, log: (message: string) => void): void {
  if (clientConfig === undefined) return;
  const shown = Redactor.describeClientConfig(clientConfig);
  log(`client settings (SIGNALPATH_KAFKA_*): ${Object.entries(shown).map(([name, value]) => `${name}=${value}`).join(', ')}`);
}
