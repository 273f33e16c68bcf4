/**
 * Evidence against the background: is a mention's count of anomalous events more than its key
 * produces anyway?
 *
 * Heavy-tailed traffic makes outliers all the time, and a hot model × segment makes many of them:
 * at a few per thousand records, a key with a thousand sampled records per window has two or three
 * outlying records in every window, so a fixed "at least 2 events" rule raises a mention each window,
 * while a rare segment with a real incident may have only two or three records in all. So a mention
 * must be surprising for its own key: with k findings among n records of its model × segment over the
 * mention's window and the few before it (`lookbackWindows`), and the key's background rate p0 of
 * such findings per record (learnt before those windows, shrunk towards the rate of that field and
 * direction over all keys while the key has little history), P(X ≥ k) for X ~ Poisson(n · p0) must be
 * below `alpha`.
 *
 * Plain class, no RxJS: the topology notes each detected record and finding, then asks per mention.
 * State: counts per model × segment × window (pruned to the latest `keepWindows` windows) and running
 * totals per model × segment × field × direction (bounded LRU).
 */
import { LRUCache } from 'lru-cache';

export interface BackgroundRateOptions {
  /** Tumbling window of the mentions, ms (the dedup window). */
  readonly windowMs: number;
  /** Chance of the count under the background below which a mention is kept, (0, 1]. */
  readonly alpha: number;
  /** Weight of the all-keys rate in a key's background rate, in records. Default 50. */
  readonly priorRecords?: number;
  /** Windows (the mention's and the ones before it) whose findings count as one body of evidence, [1, 64]. Default 5. */
  readonly lookbackWindows?: number;
  /** Windows of counts kept. Default 64. */
  readonly keepWindows?: number;
  /** Keys held. Default 100 000. */
  readonly maxKeys?: number;
}

interface Totals {
  records: number;
  findings: number;
}

export class BackgroundRate {
  readonly #windowMs: number;
  readonly #alpha: number;
  readonly #priorRecords: number;
  readonly #keepWindows: number;
  readonly #lookbackWindows: number;
  /** model|segment|window → records; model|segment|field|direction|window → findings. */
  readonly #windowCounts = new Map<number, Map<string, number>>();
  /** Totals over every window so far, per model|segment and per model|segment|field|direction. */
  readonly #totals: LRUCache<string, Totals>;
  /** Totals per field|direction over all keys (the prior). */
  readonly #global = new Map<string, Totals>();
  #records = 0;

  constructor(options: BackgroundRateOptions) {
    if (!(options.windowMs >= 1)) throw new RangeError(`BackgroundRate: windowMs must be ≥ 1, got ${options.windowMs}`);
    if (!(options.alpha > 0 && options.alpha <= 1)) throw new RangeError(`BackgroundRate: alpha must be in (0, 1], got ${options.alpha}`);
    this.#windowMs = options.windowMs;
    this.#alpha = options.alpha;
    this.#priorRecords = options.priorRecords ?? 50;
    this.#keepWindows = options.keepWindows ?? 64;
    this.#lookbackWindows = options.lookbackWindows ?? 5;
    if (!Number.isInteger(this.#lookbackWindows) || this.#lookbackWindows < 1 || this.#lookbackWindows > this.#keepWindows) {
      throw new RangeError(`BackgroundRate: lookbackWindows must be an integer in [1, keepWindows=${this.#keepWindows}], got ${this.#lookbackWindows}`);
    }
    this.#totals = new LRUCache({ max: options.maxKeys ?? 100_000 });
  }

  /** Notes one detected record of `model` × `segment` at `eventTimeMs`, with its findings' field and direction. */
  note(model: string, segment: string, eventTimeMs: number, findings: readonly { field: string; direction: string }[]): void {
    const window = Math.floor(eventTimeMs / this.#windowMs);
    const counts = this.#countsOf(window);
    const key = `${model}|${segment}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    this.#bump(key, 1, 0);
    this.#records++;
    const seen = new Set<string>();
    for (const { field, direction } of findings) {
      const signal = `${field}|${direction}`;
      if (seen.has(signal)) continue;
      seen.add(signal);
      const findingKey = `${key}|${signal}`;
      counts.set(findingKey, (counts.get(findingKey) ?? 0) + 1);
      this.#bump(findingKey, 0, 1);
      const global = this.#global.get(signal) ?? { records: 0, findings: 0 };
      global.findings++;
      this.#global.set(signal, global);
    }
  }

  /**
   * P(X ≥ k) under the key's background for the evidence that ends in the window at `windowStartMs`:
   * k and n summed over that window and the `lookbackWindows` − 1 before it (a rare segment's
   * incident trickles in a record or two per window; its windows together are what is unlikely).
   * `count` (the mention's event count) is a floor on the current window's findings.
   */
  chance(model: string, segment: string, field: string, direction: string, windowStartMs: number, count: number): number {
    const { findings, records, pastRate } = this.evidence(model, segment, field, direction, windowStartMs, count);
    return poissonUpperTail(findings, Math.max(records, findings) * pastRate);
  }

  /** The findings and records of the evidence horizon, and the key's background rate before it. */
  evidence(model: string, segment: string, field: string, direction: string, windowStartMs: number, count: number): { findings: number; records: number; pastRate: number } {
    const last = Math.floor(windowStartMs / this.#windowMs);
    const key = `${model}|${segment}`;
    const findingKey = `${key}|${field}|${direction}`;
    let records = 0;
    let findings = 0;
    for (let window = last - this.#lookbackWindows + 1; window <= last; window++) {
      const counts = this.#windowCounts.get(window);
      records += counts?.get(key) ?? 0;
      const found = counts?.get(findingKey) ?? 0;
      findings += window === last ? Math.max(found, count) : found;
    }
    // History before the horizon: the totals hold every window noted so far, the horizon's and also
    // later ones — records run ahead of the watermark that closes a mention's window (enrichment and
    // lanes reorder; a partition's batch spans minutes), so by the time a mention is judged, the rest of
    // its incident may already be noted. Counting those as background would make an incident explain
    // itself away: take out every window from the horizon on.
    let laterRecords = 0;
    let laterFindings = 0;
    for (const [window, counts] of this.#windowCounts) {
      if (window < last - this.#lookbackWindows + 1) continue;
      laterRecords += counts.get(key) ?? 0;
      laterFindings += counts.get(findingKey) ?? 0;
    }
    const pastRecords = Math.max(0, (this.#totals.get(key)?.records ?? 0) - laterRecords);
    const pastFindings = Math.max(0, (this.#totals.get(findingKey)?.findings ?? 0) - laterFindings);
    const global = this.#global.get(`${field}|${direction}`);
    const globalRate = ((global?.findings ?? 0) + 1) / (this.#records + 100);
    const pastRate = (pastFindings + this.#priorRecords * globalRate) / (pastRecords + this.#priorRecords);
    return { findings, records, pastRate };
  }

  /** True when the evidence is unlikely under the key's background (chance < alpha) and holds at least `minEvents` findings. */
  surprising(model: string, segment: string, field: string, direction: string, windowStartMs: number, count: number, minEvents = 1): boolean {
    const { findings, records, pastRate } = this.evidence(model, segment, field, direction, windowStartMs, count);
    return findings >= minEvents && poissonUpperTail(findings, Math.max(records, findings) * pastRate) < this.#alpha;
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
      for (const old of this.#windowCounts.keys()) if (old <= window - this.#keepWindows) this.#windowCounts.delete(old);
    }
    return counts;
  }
}

/** P(X ≥ k) for X ~ Poisson(λ), summed in a stable way (1 − the lower terms, or the upper terms directly). */
export function poissonUpperTail(k: number, lambda: number): number {
  if (k <= 0) return 1;
  if (!(lambda > 0)) return 0;
  if (k <= lambda) {
    // Below the mean the tail is most of the mass: 1 − the k lower terms.
    let logTerm = -lambda;
    let lower = 0;
    for (let i = 0; i < k; i++) {
      lower += Math.exp(logTerm);
      logTerm += Math.log(lambda) - Math.log(i + 1);
    }
    return Math.min(1, Math.max(0, 1 - lower));
  }
  // Upper terms directly: term_k = e^-λ λ^k / k!, then ratios λ / (i + 1); enough terms for double precision.
  let logTerm = -lambda + k * Math.log(lambda) - logFactorial(k);
  let sum = 0;
  for (let i = k; i < k + 1000; i++) {
    const term = Math.exp(logTerm);
    sum += term;
    if (i > lambda && term < sum * 1e-16) break;
    logTerm += Math.log(lambda) - Math.log(i + 1);
  }
  return Math.min(1, sum);
}

function logFactorial(n: number): number {
  let sum = 0;
  for (let i = 2; i <= n; i++) sum += Math.log(i);
  return sum;
}
