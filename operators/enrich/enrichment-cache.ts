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

/** One cache entry as plain data (the lookup's answers must be JSON-serialisable to be snapshotted). */
export interface CacheEntrySnapshot<E> {
  readonly key: string;
  readonly value?: E;
  readonly notFound?: true;
  /** Scheduler time of the fetch, epoch ms: freshness is judged against it after a restore. */
  readonly fetchedAtMs: number;
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

  /**
   * Every entry as plain data, least recently used first (so {@link load} in this order rebuilds the
   * same recency); a "not found" entry has `notFound: true` and no value. Does not touch recency.
   */
  dump(): CacheEntrySnapshot<E>[] {
    const out: CacheEntrySnapshot<E>[] = [];
    for (const key of this.#lru.rkeys()) {
      const entry = this.#lru.peek(key);
      if (entry === undefined) continue;
      out.push(entry.value === NOT_FOUND ? { key, notFound: true, fetchedAtMs: entry.fetchedAtMs } : { key, value: entry.value, fetchedAtMs: entry.fetchedAtMs });
    }
    return out;
  }

  /** Adds entries from {@link dump} (in its order), keeping their fetch times. */
  load(entries: readonly CacheEntrySnapshot<E>[]): void {
    for (const entry of entries) {
      if (typeof entry?.key !== 'string' || typeof entry.fetchedAtMs !== 'number') {
        throw new TypeError(`enrichment cache: load() needs { key, value | notFound, fetchedAtMs } entries, got ${JSON.stringify(entry)}`);
      }
      this.#lru.set(entry.key, { value: entry.notFound === true ? NOT_FOUND : (entry.value as E), fetchedAtMs: entry.fetchedAtMs });
    }
  }

  write(key: string, value: E | typeof NOT_FOUND, nowMs: number): void {
    if (value === NOT_FOUND && this.#o.negativeTtlMs === 0) return;
    this.#lru.set(key, { value, fetchedAtMs: nowMs });
  }
}
