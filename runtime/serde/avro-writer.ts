/**
 * Encodes values into one reused buffer and copies out the used slice.
 *
 * Why: avsc's `toBuffer` sizes and allocates a fresh buffer per record; writing into a reused buffer
 * with `type.encode(value, buf, pos)` and copying the slice measured about 2× faster (an InferenceEvent
 * of 148 bytes, Node 24: toBuffer ≈ 1.5 µs, encode into a reused buffer + copy ≈ 0.65 µs; an earlier
 * measurement on the same kind of machine gave 2.3 vs 0.9 µs). avsc returns a negative number when the buffer is too small (minus the bytes
 * missing): we grow and write again.
 */
import type avro from 'avsc';

/** Buffers grown past this for one large value are dropped after use, so one outlier does not pin memory. */
const MAX_RETAINED_BYTES = 1 << 20;

export class ReusableAvroWriter {
  private buffer: Buffer;

  /**
   * @param type the avsc type to write
   * @param prefix bytes written before every value (the Confluent wire-format header; empty for plain Avro)
   * @param initialBytes initial size of the reused buffer, in bytes
   */
  constructor(
    private readonly type: avro.Type,
    private readonly prefix: Buffer = Buffer.alloc(0),
    private readonly initialBytes = 1024,
  ) {
    this.buffer = this.allocate(Math.max(initialBytes, prefix.length + 64));
  }

  /** The prefix and the Avro binary of `value`, in a fresh Buffer. Throws avsc's error when `value` is invalid. */
  write(value: unknown): Buffer {
    let end = this.type.encode(value, this.buffer, this.prefix.length);
    while (end < 0) {
      this.buffer = this.allocate(Math.max(this.buffer.length * 2, this.buffer.length - end));
      end = this.type.encode(value, this.buffer, this.prefix.length);
    }
    const out = Buffer.allocUnsafe(end);
    this.buffer.copy(out, 0, 0, end);
    if (this.buffer.length > MAX_RETAINED_BYTES) this.buffer = this.allocate(this.initialBytes);
    return out;
  }

  private allocate(bytes: number): Buffer {
    // allocUnsafeSlow: a buffer of our own, not a slice of Node's shared pool that we would pin.
    const buffer = Buffer.allocUnsafeSlow(Math.max(bytes, this.prefix.length + 64));
    this.prefix.copy(buffer, 0);
    return buffer;
  }
}
