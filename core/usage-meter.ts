/**
 * What an operator reports to a usage meter: units of billable work, counted where the work happens.
 * The runtime's spend meter (runtime/cost/spend-meter.ts) implements it; operators only know this
 * interface, so they never import the runtime.
 */

/** Billable work items: an input record ingested, one call to an enrichment service, one detector run on one record. */
export type UsageItem = 'ingested-event' | 'enrichment-call' | 'detector-call';

export interface UsageMeter {
  /** Counts `count` (≥ 0) units of `item`. Called on the hot path: keep it to an addition. */
  add(item: UsageItem, count: number): void;
}
