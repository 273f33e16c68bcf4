/**
 * Credentials never reach a log line or an error message. Client settings whose name says they hold a
 * secret (`sasl.password`, `ssl.key.password`, `sasl.oauthbearer.client.secret`, …) are collected once
 * at start, and every line the CLI prints passes through {@link Redactor.redact}, which replaces each
 * secret's text — wherever it appears, whoever formatted it (our code, librdkafka, zod) — with
 * `[redacted]`. Replacing the values rather than hiding setting names also covers a secret that an
 * error echoes back inside a longer message.
 */

/** librdkafka setting names that carry credentials (case-insensitive, `.` separated). */
const SECRET_NAME = /(password|secret|key\.pem|oauthbearer\.config|jaas\.config)/i;

/** Secrets shorter than this are not replaced (a 1–2 character value would blank out half a line). */
const MIN_SECRET_CHARS = 3;

export const REDACTED = '[redacted]';

/** True when a client setting's value is a credential. */
export function isSecretSetting(name: string): boolean {
  return SECRET_NAME.test(name);
}

export class Redactor {
  readonly #secrets: string[];

  constructor(secrets: Iterable<string>) {
    // Longest first: a secret that contains another is replaced whole.
    this.#secrets = [...new Set([...secrets].filter((s) => s.length >= MIN_SECRET_CHARS))].sort((a, b) => b.length - a.length);
  }

  /** The secret values among `clientConfig`'s settings. */
  static forClientConfig(clientConfig: Readonly<Record<string, unknown>> | undefined): Redactor {
    const secrets: string[] = [];
    for (const [name, value] of Object.entries(clientConfig ?? {})) {
      if (isSecretSetting(name) && typeof value === 'string') secrets.push(value);
    }
    return new Redactor(secrets);
  }

  get active(): boolean {
    return this.#secrets.length > 0;
  }

  /** `text` with every secret replaced; guaranteed to contain none of them. */
  redact(text: string): string {
    let result = text;
    // A secret that shares characters with the marker ('d]x' in '[redacted]x') can reappear across a
    // replacement: repeat a few times, and as a last resort withhold the whole line.
    for (let pass = 0; pass < 4; pass++) {
      const found = this.#secrets.filter((secret) => result.includes(secret));
      if (found.length === 0) return result;
      for (const secret of found) result = result.split(secret).join(REDACTED);
    }
    if (!this.#secrets.some((secret) => result.includes(secret))) return result;
    const withheld = '(a line that held a credential was withheld)';
    return this.#secrets.some((secret) => withheld.includes(secret)) ? '' : withheld;
  }

  /** A copy of a client configuration fit to print: secret settings show `[redacted]`. */
  static describeClientConfig(clientConfig: Readonly<Record<string, unknown>> | undefined): Record<string, string> {
    const shown: Record<string, string> = {};
    for (const [name, value] of Object.entries(clientConfig ?? {})) shown[name] = isSecretSetting(name) ? REDACTED : String(value);
    return shown;
  }
}
