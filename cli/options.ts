/**
 * The options several commands share, written once: a run setting as a flag (its help and variable
 * from runtime/config.ts's SETTINGS, the schema every command validates it with), `--brokers`, and
 * the collector of a repeatable flag.
 */
import { Option } from 'commander';
import { ConfigError, SETTINGS } from '../runtime/config.js';

/** A flag for one of the run settings: the help text is the setting's, followed by its variable. */
export function setting(name: keyof typeof SETTINGS, flags: string): Option {
  return new Option(flags, `${SETTINGS[name].help} [env ${SETTINGS[name].env}]`);
}

/**
 * `--brokers`, as every command that talks to Kafka takes it: the flag, else KAFKA_BROKERS, else a
 * local broker started for the command (cli/brokers.ts).
 */
export function brokersOption(): Option {
  return setting('brokers', '--brokers <host:port,...>');
}

/** Accumulates a repeatable flag's values (`--topic a=b --topic c=d`). */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** A numeric flag's value, or a ConfigError naming the flag and what it accepts (an empty value is never a number). */
export function numberFlag(flag: string, text: string, check: (x: number) => boolean, accepts: string): number {
  const value = Number(text);
  if (text.trim() === '' || !check(value)) throw new ConfigError(`${flag} ${text}: expected ${accepts}`);
  return value;
}
