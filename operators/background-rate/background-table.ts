/**
 * The counting behind `backgroundRate`: is a count of findings more than its key produces anyway?
 *
 * Heavy-tailed traffic makes outliers all the time, and a busy key makes many of them: at a few per
 * thousand records, a key with a thousand records per window has two or three outlying records in
 * every window, so a fixed "at least 2 findings" rule fires each window, while a rare key with a real
 * incident may have only two or three records in all. So a count must be surprising for its own key:
 * with k findings of a signal among n records of its key over the window asked about and the few
 * before it (`lookbackWindows`), and the key's background rate p0 of that signal per record (learnt
 * before those windows, shrunk towards the signal's rate over all keys while the key has little
 * history: `priorRecords`), P(X ≥ k) for X ~ Poisson(n · p0) must be below `alpha`.
 *
 * Plain class, no RxJS. State: counts per key × window and per key × signal × window (the latest
 * `keepWindows` windows), running totals per key and per key × signal (bounded LRU: `maxKeys`) and
 * per signal over all keys (bounded LRU: `maxKeys`).
 */
import { LRUCache } from 'lru-cache';
import { poissonUpperTail } from './poisson.js';

export interface BackgroundTableOptions {
  /** Tumbling event-time window of the counts, ms. */
  readonly windowMs: number;
  /** Chance of the count under the background below which it is surprising, (0, 1]. */
  readonly alpha: number;
  /** Weight of the all-keys rate in a key's background rate, in records. */
  readonly priorRecords: number;
  /** Windows (the one asked about and the ones before it) whose findings count as one body of evidence. */
  readonly lookbackWindows: number;
  /** Windows of counts kept (≥ lookbackWindows). */
  readonly keepWindows: number;
  /** Keys and key × signal totals held, and signals. */
  readonly maxKeys: number;
}

/** The evidence asked about: findings and records over the lookback windows, and the key's rate before them. */
export interface BackgroundEvidence {
  readonly findings: number;
  readonly records: number;
  readonly pastRate: number;
}

interface Totals {
  records: number;
  findings: number;
}

export class BackgroundTable {
  readonly #options: BackgroundTableOptions;
  /** key → records and key\0signal → findings, per window. */
  readonly #windowCounts = new Map<number, Map<string, number>>();
  /** Totals over every window so far, per key and per key\0signal. */
  readonly #totals: LRUCache<string, Totals>;
  /** Findings per signal over all keys (the prior). */
  readonly #signalFindings: LRUCache<string, number>;
  #records = 0;

  constructor(options: BackgroundTableOptions) {
    this.#options = options;
    this.#totals = new LRUCache({ max: options.maxKeys });
    this.#signalFindings = new LRUCache({ max: options.maxKeys });
  }

  /** Windows of counts held now. */
  get windows(): number {
    return this.#windowCounts.size;
  }

  /** Notes one record of `key` at `eventTimeMs` with the signals it shows (each counted once per record). */
  note(key: string, eventTimeMs: number, signals: readonly string[]): void {
    const window = Math.floor(eventTimeMs / this.#options.windowMs);
    const counts = this.#countsOf(window);
    counts.set(key, (counts.get(key) ?? 0) + 1);
    this.#bump(key, 1, 0);
    this.#records++;
    const seen = new Set<string>();
    for (const signal of signals) {
      if (seen.has(signal)) continue;
      seen.add(signal);
      const findingKey = `${key}\u0000${signal}`;
      counts.set(findingKey, (counts.get(findingKey) ?? 0) + 1);
      this.#bump(findingKey, 0, 1);
      this.#signalFindings.set(signal, (this.#signalFindings.get(signal) ?? 0) + 1);
    }
  }

  /**
   * The findings and records of `key` × `signal` over the window at `windowStartMs` and the
   * `lookbackWindows` − 1 before it (a rare key's incident trickles in a record or two per window;
   * its windows together are what is unlikely), and the key's background rate before them. `count`
   * (findings the caller knows of in that window) is a floor on the window's findings.
   */
  evidence(key: string, signal: string, windowStartMs: number, count: number): BackgroundEvidence {
    const { windowMs, lookbackWindows, priorRecords } = this.#options;
    const last = Math.floor(windowStartMs / windowMs);
    const findingKey = `${key}\u0000${signal}`;
    let records = 0;
    let findings = 0;
    for (let window = last - lookbackWindows + 1; window <= last; window++) {
      const counts = this.#windowCounts.get(window);
      records += counts?.get(key) ?? 0;
      const found = counts?.get(findingKey) ?? 0;
      findings += window === last ? Math.max(found, count) : found;
    }
    // History before the horizon: the totals hold every window noted so far, the horizon's and also
    // later ones — records run ahead of the watermark that closes a window (async steps and lanes
    // reorder; a partition's batch spans minutes), so by the time a window is judged, the rest of its
    // incident may already be noted. Counting those as background would make an incident explain
    // itself away: take out every window from the horizon on.
    let laterRecords = 0;
    let laterFindings = 0;
    for (const [window, counts] of this.#windowCounts) {
      if (window < last - lookbackWindows + 1) continue;
      laterRecords += counts.get(key) ?? 0;
      laterFindings += counts.get(findingKey) ?? 0;
    }
    const pastRecords = Math.max(0, (this.#totals.get(key)?.records ?? 0) - laterRecords);
    const pastFindings = Math.max(0, (this.#totals.get(findingKey)?.findings ?? 0) - laterFindings);
    const globalRate = ((this.#signalFindings.get(signal) ?? 0) + 1) / (this.#records + 100);
    const pastRate = (pastFindings + priorRecords * globalRate) / (pastRecords + priorRecords);
    return { findings, records, pastRate };
  }

  /** P(X ≥ k) under the key's background for the evidence of {@link evidence}. */
  chance(key: string, signal: string, windowStartMs: number, count: number): number {
    const { findings, records, pastRate } = this.evidence(key, signal, windowStartMs, count);
    return poissonUpperTail(findings, Math.max(records, findings) * pastRate);
  }

  /** True when the evidence holds at least `minEvents` findings and is unlikely under the key's background (chance < alpha). */
  surprising(key: string, signal: string, windowStartMs: number, count: number, minEvents: number): boolean {
    const { findings, records, pastRate } = this.evidence(key, signal, windowStartMs, count);
    return findings >= minEvents && poissonUpperTail(findings, Math.max(records, findings) * pastRate) < this.#options.alpha;
  }

  #bump(key: string, records: number, findings: number): void {
    const totals = this.#totals.get(key) ?? { records: 0, findings: 0 };
    totals.records += records;
    totals.findings += findings;
    this.#totals.set(key, totals);
  }

  #countsOf(window: number): Map<string, number> {
    let counts = this.#windowCounts.get(window);
    if (counts === undefined) {
      counts = new Map();
      this.#windowCounts.set(window, counts);
      for (const old of this.#windowCounts.keys()) if (old <= window - this.#options.keepWindows) this.#windowCounts.delete(old);
    }
    return counts;
  }
}
