/**
 * How one step's snapshot for one input partition is laid out in its changelog topic so that every
 * record fits the producer's `message.max.bytes`, however large the state grows: the snapshot's JSON
 * text is cut into chunks, and a manifest, written after them, says which chunks make the snapshot.
 *
 * Keys (fixed, so compaction bounds the topic to 1 + 2 × chunks keys per step and partition):
 *
 * - `<step>:<partition>` — the manifest: slot, snapshot id, chunk count, byte length and SHA-256 of
 *   the whole text, plus the committed offset and who wrote it.
 * - `<step>:<partition>:<slot>:<i>` — chunk `i` of the snapshot in slot `a` or `b`. Writes alternate
 *   slots, so a write that stops half way (a crash, an aborted transaction) leaves the slot the
 *   manifest names untouched; the manifest is written last, so it never names a half-written slot.
 *
 * Each chunk carries the id of the snapshot it belongs to; {@link assembleSnapshot} accepts only a
 * complete set of chunks with the manifest's id, the manifest's length and checksum, so the chunks of
 * two snapshots are never mixed. A slot's chunks past the new count are tombstoned by the writer.
 *
 * Pure functions; the runner (step-states.ts) produces and reads the records.
 */
import { createHash } from 'node:crypto';

export type Slot = 'a' | 'b';

/** Which snapshot it is and who wrote it: what a manifest and a changelog entry both say. */
export interface SnapshotOrigin {
  readonly step: string;
  readonly partition: number;
  /** The input partition's committed offset when the snapshot was taken (-1: none committed yet). */
  readonly committedOffset: number;
  /** `client.id`-like name of the instance that wrote it (host:pid#n). */
  readonly writer: string;
  /** The writer's consumer group and `--instance-id` (absent when it had none, or in format 1): whose state this is. */
  readonly group?: string;
  readonly instance?: string;
  readonly writtenAtMs: number;
}

/** The fields of {@link SnapshotOrigin} taken from a manifest or an entry (optional ones only when present). */
export function snapshotOriginOf(from: SnapshotOrigin): SnapshotOrigin {
  const { step, partition, committedOffset, writer, writtenAtMs, group, instance } = from;
  return { step, partition, committedOffset, writer, writtenAtMs, ...(group === undefined ? {} : { group }), ...(instance === undefined ? {} : { instance }) };
}

export interface SnapshotManifest extends SnapshotOrigin {
  readonly format: 2;
  readonly kind: 'manifest';
  readonly slot: Slot;
  readonly snapshotId: string;
  readonly chunks: number;
  /** Byte length and SHA-256 (hex) of the snapshot's JSON text. */
  readonly bytes: number;
  readonly sha256: string;
}

/** The header a chunk record starts with, before a newline and its bytes. */
interface ChunkHeader {
  readonly format: 2;
  readonly kind: 'chunk';
  readonly snapshotId: string;
  readonly index: number;
  readonly count: number;
}

/** Room kept in each chunk record for its header, key and the record's own overhead. */
export const CHUNK_OVERHEAD_BYTES = 512;
/** Chunks smaller than this would mean thousands of records per megabyte: state that cannot fit. */
export const MIN_CHUNK_PAYLOAD_BYTES = 1024;
/** The most chunks one snapshot may take (a bound on the topic's keys and on a restore's reads). */
export const MAX_CHUNKS = 100_000;

export function manifestKey(step: string, partition: number): string {
  return `${step}:${partition}`;
}

export function chunkKey(step: string, partition: number, slot: Slot, index: number): string {
  return `${step}:${partition}:${slot}:${index}`;
}

/** Parses a chunk key; null for a manifest key or a foreign one. */
export function parseChunkKey(key: string): { step: string; partition: number; slot: Slot; index: number } | null {
  const match = /^(.*):(\d+):([ab]):(\d+)$/.exec(key);
  if (match === null) return null;
  return { step: match[1]!, partition: Number(match[2]), slot: match[3] as Slot, index: Number(match[4]) };
}

export function otherSlot(slot: Slot | undefined): Slot {
  return slot === 'a' ? 'b' : 'a';
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * The payload bytes per chunk for a producer whose `message.max.bytes` is `messageMaxBytes`: a quarter
 * of it less the header room, so a chunk is well under the limit even in a batch with other records.
 */
export function chunkPayloadBytes(messageMaxBytes: number): number {
  return Math.floor(messageMaxBytes / 4) - CHUNK_OVERHEAD_BYTES;
}

/** The value of chunk `index` of `count`, holding `payload`. */
export function encodeChunk(snapshotId: string, index: number, count: number, payload: Buffer): Buffer {
  const header: ChunkHeader = { format: 2, kind: 'chunk', snapshotId, index, count };
  return Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), payload]);
}

/** Decodes a chunk value, or says why it is not one. */
export function decodeChunk(value: Buffer): { readonly header: ChunkHeader; readonly payload: Buffer } | string {
  const newline = value.indexOf(0x0a);
  if (newline < 0) return 'not a snapshot chunk (no header line)';
  let header: Partial<ChunkHeader>;
  try {
    header = JSON.parse(value.subarray(0, newline).toString('utf8')) as Partial<ChunkHeader>;
  } catch (error) {
    return `not a snapshot chunk: ${(error as Error).message}`;
  }
  if (header.format !== 2 || header.kind !== 'chunk' || typeof header.snapshotId !== 'string' || !Number.isInteger(header.index) || !Number.isInteger(header.count)) {
    return 'not a snapshot chunk { format: 2, kind: chunk, snapshotId, index, count }';
  }
  return { header: header as ChunkHeader, payload: value.subarray(newline + 1) };
}

/** Cuts `text` into chunk values of at most `payloadBytes` bytes each (at least one chunk). */
export function chunkSnapshot(text: Buffer, snapshotId: string, payloadBytes: number): Buffer[] {
  if (!(Number.isInteger(payloadBytes) && payloadBytes >= 1)) throw new RangeError(`chunkSnapshot: payloadBytes must be a positive integer, got ${payloadBytes}`);
  const count = Math.max(1, Math.ceil(text.length / payloadBytes));
  const chunks: Buffer[] = [];
  for (let index = 0; index < count; index++) chunks.push(encodeChunk(snapshotId, index, count, text.subarray(index * payloadBytes, (index + 1) * payloadBytes)));
  return chunks;
}

export function encodeManifest(manifest: SnapshotManifest): Buffer {
  return Buffer.from(JSON.stringify(manifest));
}

/**
 * The snapshot text a manifest names, from the chunk values found under its slot's keys
 * (`chunkAt(i)`: the latest value of `<step>:<partition>:<slot>:<i>`, or undefined), or why not:
 * a chunk missing or of another snapshot, a wrong length or checksum.
 */
export function assembleSnapshot(manifest: SnapshotManifest, chunkAt: (index: number) => Buffer | undefined): Buffer | string {
  const parts: Buffer[] = [];
  for (let index = 0; index < manifest.chunks; index++) {
    const value = chunkAt(index);
    if (value === undefined) return `chunk ${index} of ${manifest.chunks} (slot ${manifest.slot}) is missing`;
    const chunk = decodeChunk(value);
    if (typeof chunk === 'string') return `chunk ${index}: ${chunk}`;
    if (chunk.header.snapshotId !== manifest.snapshotId || chunk.header.index !== index || chunk.header.count !== manifest.chunks) {
      return `chunk ${index} (slot ${manifest.slot}) belongs to snapshot ${chunk.header.snapshotId}, not ${manifest.snapshotId}`;
    }
    parts.push(chunk.payload);
  }
  const text = Buffer.concat(parts);
  if (text.length !== manifest.bytes) return `the chunks hold ${text.length} bytes, the manifest says ${manifest.bytes}`;
  if (sha256(text) !== manifest.sha256) return 'the chunks do not match the manifest checksum';
  return text;
}
