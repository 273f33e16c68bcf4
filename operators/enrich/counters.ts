import type { CircuitState } from './circuit-breaker.js';

/** Counters of one `enrich` step; pass an instance as `counters` and read it (metrics, the lab). */
export class EnrichCounters {
  /** Fresh cache hits (including cached not-found answers). */
  hits = 0;
  /** Stale hits served while a refresh ran. */
  staleHits = 0;
  /** Records that needed a lookup. */
  misses = 0;
  /** Misses that joined a lookup already under way for their key (single-flight). */
  coalesced = 0;
  /** Lookups started (first attempts; retries counted apart). */
  lookups = 0;
  retries = 0;
  timeouts = 0;
  /** Lookups that answered "not found". */
  notFound = 0;
  /** Records whose lookup failed for good (flagged or dead-lettered). */
  failures = 0;
  /** Lookups under way now. */
  inFlight = 0;
  /** Records held now (waiting for a lookup or for an earlier record in ordered mode). */
  pendingRecords = 0;
  /** Lookup latency of completed lookups, scheduler milliseconds. */
  lookupLatencyTotalMs = 0;
  lookupLatencyMaxMs = 0;
  lookupsCompleted = 0;
  /** The circuit breaker's state ('closed' without a breaker). */
  circuitState: CircuitState = 'closed';
  /** Times the circuit opened. */
  circuitOpens = 0;
  /** Lookups not attempted because the circuit was open. */
  circuitRejected = 0;

  get lookupLatencyMeanMs(): number {
    return this.lookupsCompleted === 0 ? 0 : this.lookupLatencyTotalMs / this.lookupsCompleted;
  }

  recordLatency(ms: number): void {
    this.lookupsCompleted++;
    this.lookupLatencyTotalMs += ms;
    if (ms > this.lookupLatencyMaxMs) this.lookupLatencyMaxMs = ms;
  }
}
