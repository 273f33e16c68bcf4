/** A changelog topic in memory for StepStates without a broker: the latest value per key, tombstones delete. */
import { encodeEntry, entryOf, type ChangelogEntry, type ReadChangelogResult } from '../../runtime/state/changelog.js';
import type { Message } from '../../runtime/kafka/client.js';

export class MemoryChangelog {
  readonly records = new Map<string, Buffer>();
  /** Every record written, in order (tombstones as null). */
  readonly log: { key: string; value: Buffer | null }[] = [];

  /** StepStates' `write`. */
  readonly write = (_topic: string, key: string, value: Buffer | null): void => {
    this.log.push({ key, value });
    if (value === null) this.records.delete(key);
    else this.records.set(key, value);
  };

  /** StepStates' `read`: the keys asked for. */
  readonly read = async (_topic: string, keep: (key: string) => boolean): Promise<Pick<ReadChangelogResult, 'records' | 'recordsRead'>> => {
    const records = new Map([...this.records].filter(([key]) => keep(key)));
    return { records, recordsRead: this.records.size };
  };

  /** Puts a whole-snapshot record of the previous release (format 1) under its key. */
  putEntry(key: string, entry: ChangelogEntry): void {
    this.records.set(key, encodeEntry(entry));
  }
}

/**
 * The entries a changelog's records held as they were written: each manifest assembled from the
 * records before it (a later snapshot may reuse its slot), in log order. For tests reading a real topic.
 */
export function entriesAlong(messages: readonly Message[]): ChangelogEntry[] {
  const records = new Map<string, Buffer>();
  const entries: ChangelogEntry[] = [];
  for (const message of messages) {
    const key = message.key?.toString();
    if (key === undefined) continue;
    if (message.value === null) {
      records.delete(key);
      continue;
    }
    records.set(key, message.value);
    const manifest = /^(.*):(\d+)$/.exec(key);
    if (manifest === null) continue;
    const entry = entryOf(records, manifest[1]!, Number(manifest[2]));
    if (entry !== null && typeof entry !== 'string') entries.push(entry);
  }
  return entries;
}
