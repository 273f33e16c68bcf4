/**
 * The spend meter: counts billable work where it happens (the source counts ingested events, `enrich`
 * its enrichment calls, `parallelDetect` its detector calls) and prices it with configurable unit
 * prices. Spend is therefore counted by the runtime during the run, never estimated afterwards.
 *
 * It satisfies `{ spendUsd(): number }`, the interface the metrics exporter reads.
 */
import type { UsageItem, UsageMeter } from '../../core/usage-meter.js';

/** Unit prices in US dollars. */
export interface UnitPricesUsd {
  readonly perEvent: number;
  readonly perEnrichmentCall: number;
  readonly perDetectorCall: number;
}

/** What the spend meter reports at the end of a run (snake_case: it goes into the run summary JSON). */
export interface SpendReport {
  readonly counts: Readonly<Record<UsageItem, number>>;
  readonly prices_usd: Readonly<Record<UsageItem, number>>;
  readonly spend_usd_by_item: Readonly<Record<UsageItem, number>>;
  readonly spend_usd: number;
}

export class SpendMeter implements UsageMeter {
  // Plain fields rather than a Map: add() runs once per input record.
  #events = 0;
  #enrichmentCalls = 0;
  #detectorCalls = 0;

  constructor(readonly prices: UnitPricesUsd) {
    for (const [name, price] of Object.entries(prices)) {
      if (!(Number.isFinite(price) && price >= 0)) throw new RangeError(`SpendMeter: price ${name} must be a finite number ≥ 0, got ${price}`);
    }
  }

  add(item: UsageItem, count: number): void {
    if (item === 'ingested-event') this.#events += count;
    else if (item === 'enrichment-call') this.#enrichmentCalls += count;
    else this.#detectorCalls += count;
  }

  count(item: UsageItem): number {
    return item === 'ingested-event' ? this.#events : item === 'enrichment-call' ? this.#enrichmentCalls : this.#detectorCalls;
  }

  spendUsd(): number {
    return this.#events * this.prices.perEvent + this.#enrichmentCalls * this.prices.perEnrichmentCall + this.#detectorCalls * this.prices.perDetectorCall;
  }

  report(): SpendReport {
    const prices = { 'ingested-event': this.prices.perEvent, 'enrichment-call': this.prices.perEnrichmentCall, 'detector-call': this.prices.perDetectorCall };
    const counts = { 'ingested-event': this.#events, 'enrichment-call': this.#enrichmentCalls, 'detector-call': this.#detectorCalls };
    return {
      counts,
      prices_usd: prices,
      spend_usd_by_item: {
        'ingested-event': counts['ingested-event'] * prices['ingested-event'],
        'enrichment-call': counts['enrichment-call'] * prices['enrichment-call'],
        'detector-call': counts['detector-call'] * prices['detector-call'],
      },
      spend_usd: this.spendUsd(),
    };
  }
}
