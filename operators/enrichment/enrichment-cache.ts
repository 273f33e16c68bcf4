/**
 * The lookup cache of `enrich`: lru-cache for the size bound, with freshness kept against an injected
 * clock (so virtual time and replays behave like live traffic).
 *
 * An entry is *fresh* for `ttlMs` after it was fetched, then *stale* for `staleWhileRevalidateMs` more
 * (served at once while a refresh runs in the background), then expired. A lookup that found nothing
 * is cached as {@link NOT_FOUND} for `negativeTtlMs` (never served stale), so a stream of unknown keys
 * does not hammer the backing service.
 */
import { LRUCache } from 'lru-cache';

export const NOT_FOUND: unique symbol = Symbol('not found');

export type CacheRead<E> =
  | { readonly state: 'fresh'; readonly value: E | typeof NOT_FOUND }
  | { readonly state: 'stale'; readonly value: E }
  | { readonly state: 'absent' };

export interface EnrichmentCacheOptions {
  readonly maxEntries: number;
  readonly ttlMs: number;
  readonly staleWhileRevalidateMs: number;
  readonly negativeTtlMs: number;
}

interface Entry<E> {
  readonly value: E | typeof NOT_FOUND;
  readonly fetchedAtMs: number;
}

export class EnrichmentCache<E> {
  readonly #o: EnrichmentCacheOptions;
  readonly #lru: LRUCache<string, Entry<E>>;

  constructor(options: EnrichmentCacheOptions) {
    this.#o = options;
    this.#lru = new LRUCache<string, Entry<E>>({ max: options.maxEntries });
  }

  get size(): number {
    return this.#lru.size;
  }

  read(key: string, nowMs: number): CacheRead<E> {
    const entry = this.#lru.get(key);
    if (entry === undefined) return { state: 'absent' };
    const age = nowMs - entry.fetchedAtMs;
    if (entry.value === NOT_FOUND) {
      if (age < this.#o.negativeTtlMs) return { state: 'fresh', value: NOT_FOUND };
    } else if (age < this.#o.ttlMs) {
      return { state: 'fresh', value: entry.value };
    } else if (age < this.#o.ttlMs + this.#o.staleWhileRevalidateMs) {
      return { state: 'stale', value: entry.value };
    }
    this.#lru.delete(key);
    return { state: 'absent' };
  }

  write(key: string, value: E | typeof NOT_FOUND, nowMs: number): void {
    if (value === NOT_FOUND && this.#o.negativeTtlMs === 0) return;
    this.#lru.set(key, { value, fetchedAtMs: nowMs });
  }
}
