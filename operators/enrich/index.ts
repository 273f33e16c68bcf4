export { EnrichmentCache, NOT_FOUND, type CacheRead, type CacheEntrySnapshot, type EnrichmentCacheOptions } from './enrichment-cache.js';
export { LookupTimeoutError, isRetriableByDefault, fullJitterDelayMs } from './retry.js';
export { ReorderBuffer } from './reorder-buffer.js';
export { EnrichCounters } from './counters.js';
export { runWithRetries, type AttemptPolicy, type AttemptOutcome, type AttemptEvents } from './attempts.js';
export { CircuitBreaker, CircuitOpenError, CIRCUIT_STATE_VALUE, type CircuitState, type CircuitTicket, type CircuitBreakerOptions } from './circuit-breaker.js';
