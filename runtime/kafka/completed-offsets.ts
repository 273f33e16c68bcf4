/**
 * Records that completed ahead of a partition's commit position, carried in the offset commit's
 * metadata so that whoever reads the partition next does not process them again.
 *
 * Steps may settle records out of order (asynchronous enrichment, lanes, windows), so the commit
 * position — the oldest unsettled record — trails records whose outputs are already durable: in
 * exactly-once mode they are in a committed transaction. Without more, the partition's next owner
 * (after a rebalance, a crash or an aborted transaction's rewind) reads from the commit position and
 * produces those outputs a second time — duplicates in `read_committed` output. The commit therefore
 * also names the completed records beyond it (the technique of Confluent's parallel consumer), and the
 * reader skips exactly those. Kafka keeps the metadata with the offset, atomically with the
 * transaction in exactly-once mode.
 *
 * Format: `c1:` then ranges of completed offsets as `gap+span` in base 36, comma-separated, where
 * `gap` is the range's first offset minus the previous range's last (minus the commit position, for
 * the first range, which may start at it) and `span` its last offset minus its first (`+0` is left out). Offsets in a range with
 * no record (transaction markers, compaction) are harmless: nothing is there to skip.
 *
 * The broker bounds metadata (`offset.metadata.max.bytes`, 4096 by default). Ranges that do not fit
 * are left out, nearest first kept: a record left out is read and produced again, never lost.
 */

/** Metadata kept below the broker's default limit, with room to spare. */
export const MAX_COMPLETED_METADATA_BYTES = 4000;

const PREFIX = 'c1:';

/** An inclusive range of offsets, [first, last]. */
export type OffsetRange = readonly [first: number, last: number];

export interface EncodedCompleted {
  /** The commit metadata ('' when nothing completed ahead). */
  readonly metadata: string;
  /** Completed records left out for want of room: they will be processed again after a handover. */
  readonly leftOut: number;
}

/**
 * Encodes `ranges` (ascending, disjoint, all above `commitOffset`) in at most `maxBytes` characters
 * (ASCII: characters are bytes).
 */
export function encodeCompleted(commitOffset: number, ranges: readonly OffsetRange[], maxBytes = MAX_COMPLETED_METADATA_BYTES): EncodedCompleted {
  if (ranges.length === 0) return { metadata: '', leftOut: 0 };
  let metadata = PREFIX;
  let previous = commitOffset;
  let leftOut = 0;
  for (const [index, [first, last]] of ranges.entries()) {
    if (first < previous + (index === 0 ? 0 : 1) || last < first) throw new RangeError(`completed ranges must ascend above the commit position ${commitOffset}: got [${first}, ${last}] after ${previous}`);
    const span = last - first;
    const part = `${index === 0 ? '' : ','}${(first - previous).toString(36)}${span === 0 ? '' : `+${span.toString(36)}`}`;
    if (metadata.length + part.length > maxBytes) {
      for (const [restFirst, restLast] of ranges.slice(index)) leftOut += restLast - restFirst + 1;
      break;
    }
    metadata += part;
    previous = last;
  }
  return { metadata: metadata === PREFIX ? '' : metadata, leftOut };
}

/**
 * The completed offsets named by commit metadata `metadata` for commit position `commitOffset`, or
 * null when the metadata is empty or was not written by {@link encodeCompleted} (another tool's commit:
 * then nothing is skipped). A malformed `c1:` value is an error: it says the commit was damaged.
 */
export function decodeCompleted(commitOffset: number, metadata: string | null | undefined): CompletedOffsets | null {
  if (metadata === null || metadata === undefined || !metadata.startsWith(PREFIX)) return null;
  const ranges: OffsetRange[] = [];
  let previous = commitOffset;
  for (const part of metadata.slice(PREFIX.length).split(',')) {
    const match = /^([0-9a-z]+)(?:\+([0-9a-z]+))?$/.exec(part);
    const gap = match === null ? NaN : parseInt(match[1]!, 36);
    const span = match === null || match[2] === undefined ? 0 : parseInt(match[2], 36);
    if (!Number.isSafeInteger(gap) || gap < (ranges.length === 0 ? 0 : 1) || !Number.isSafeInteger(span)) throw new Error(`commit metadata "${metadata}" is not a valid list of completed offsets (at "${part}")`);
    const first = previous + gap;
    ranges.push([first, first + span]);
    previous = first + span;
  }
  return new CompletedOffsets(ranges);
}

/** A partition's completed offsets, asked in ascending order as records are read. */
export class CompletedOffsets {
  #next = 0;

  constructor(readonly ranges: readonly OffsetRange[]) {}

  /** Records the ranges cover. */
  get count(): number {
    return this.ranges.reduce((sum, [first, last]) => sum + last - first + 1, 0);
  }

  /** Whether `offset` completed; offsets must be asked in ascending order. */
  has(offset: number): boolean {
    while (this.#next < this.ranges.length && this.ranges[this.#next]![1] < offset) this.#next++;
    const range = this.ranges[this.#next];
    return range !== undefined && range[0] <= offset;
  }

  /** The ranges from `offset` on (a range that straddles it is cut there). */
  rangesFrom(offset: number): [first: number, last: number][] {
    const from: [number, number][] = [];
    for (const [first, last] of this.ranges) if (last >= offset) from.push([Math.max(first, offset), last]);
    return from;
  }

  /** True once every range lies below the offsets still to be asked about. */
  get exhausted(): boolean {
    return this.#next >= this.ranges.length;
  }
}
