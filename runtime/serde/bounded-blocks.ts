/**
 * Guards avsc's array and map readers against block counts that cannot fit in the bytes left.
 *
 * Why: an Avro array or map is written as blocks, each prefixed by an item count. avsc trusts the
 * count: it allocates `new Array(count)` and loops `count` times, even past the end of the buffer.
 * Five bytes of garbage that read as a count of 300 million made a Node process die with "heap out of
 * memory" (measured with avsc 5.7.9) — one poison record would take a whole topology down. Every
 * item takes at least one byte unless its type is zero-sized (null, an empty record, fixed(0)), so a
 * count larger than the bytes left proves the record is corrupt: we throw before allocating.
 *
 * avsc freezes its types, so the guard is a subclass of its ArrayType and MapType, put in place with
 * avsc's `typeHook` while parsing (see {@link parseGuardedType}). It overrides avsc's internal
 * `_read`/`_skip` and reads the Tap's `buf`/`pos` (internals, pinned by package-lock); resolvers copy
 * the reader's `_read`, and writers' `_skip` covers fields the reader drops, so every path is guarded.
 * test/schemas checks it with crafted counts.
 */
import avro from 'avsc';

/** Items of zero-sized types cannot be bounded by bytes; cap their block count instead. */
const MAX_ZERO_SIZE_ITEMS = 1_000_000;

// avsc's internals, typed just enough for the guard.
interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  skipLong(): void;
  skipString(): void;
  readString(): string;
}
interface InternalType {
  typeName: string;
  _read(tap: Tap): unknown;
  _skip(tap: Tap): void;
  itemsType?: InternalType;
  valuesType?: InternalType;
  types?: InternalType[];
  fields?: { type: InternalType }[];
  underlyingType?: InternalType;
  size?: number;
}
interface Block {
  itemsType?: InternalType;
  valuesType?: InternalType;
}

/**
 * Parses a schema into an avsc type whose arrays and maps reject impossible block counts. Records
 * decode without avsc's prototype methods (`omitRecordMethods`): their enumerable `clone`, `toBuffer`…
 * would show up in `for…in` and in deep equality against plain objects.
 */
export function parseGuardedType(schema: avro.Schema): avro.Type {
  return avro.Type.forSchema(schema, { typeHook, omitRecordMethods: true } as Partial<avro.ForSchemaOptions>);
}

function typeHook(schema: avro.Schema, opts: unknown): avro.Type | undefined {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return undefined;
  const { type } = schema as { type?: unknown };
  if (type === 'array') return new GuardedArrayType(schema, opts);
  if (type === 'map') return new GuardedMapType(schema, opts);
  return undefined;
}

/** Lower bound of an item's size, per array type (avsc's types are frozen, so kept beside them). */
const minItemBytesByType = new WeakMap<object, number>();

/**
 * Reads a block count and proves it can fit in what is left of the buffer. `minItemBytes` undefined
 * (reading through a resolver, whose writer item type we cannot see) allows up to the bytes left, or
 * MAX_ZERO_SIZE_ITEMS for zero-sized items.
 */
function readBlockCount(tap: Tap, minItemBytes: number | undefined, what: string): number {
  let count = tap.readLong();
  if (count < 0) {
    // A negative count is followed by the block's size in bytes (lets readers skip whole blocks).
    count = -count;
    tap.skipLong();
  }
  const bytesLeft = tap.buf.length - tap.pos;
  const fits =
    minItemBytes === undefined
      ? count <= bytesLeft || count <= MAX_ZERO_SIZE_ITEMS
      : minItemBytes > 0
        ? count * minItemBytes <= bytesLeft
        : count <= MAX_ZERO_SIZE_ITEMS;
  if (!fits) {
    throw new Error(`${what} block claims ${count} items but only ${Math.max(bytesLeft, 0)} bytes are left (corrupt or truncated data)`);
  }
  return count;
}

/** `this` is the type itself, or a resolver that copied `_read` from it (then its items are a resolver). */
function minItemBytesOf(self: Block & { typeName?: string }): number | undefined {
  if (self.typeName === undefined) return undefined;
  let min = minItemBytesByType.get(self);
  if (min === undefined) {
    min = minEncodedBytes(self.itemsType!, new Set());
    minItemBytesByType.set(self, min);
  }
  return min;
}

class GuardedArrayType extends avro.types.ArrayType {
  _read(this: Block, tap: Tap): unknown[] {
    const items = this.itemsType!;
    const minItemBytes = minItemBytesOf(this);
    let result: unknown[] | undefined;
    let i = 0;
    let count: number;
    while ((count = readBlockCount(tap, minItemBytes, 'array'))) {
      result ??= new Array<unknown>(count);
      while (count--) result[i++] = items._read(tap);
    }
    return result ?? [];
  }

  _skip(this: Block, tap: Tap): void {
    const items = this.itemsType!;
    const minItemBytes = minItemBytesOf(this);
    let count: number;
    while ((count = readBlockCount(tap, minItemBytes, 'array'))) {
      while (count--) items._skip(tap);
    }
  }
}

/** Every map entry starts with its key, a string of at least one byte (its length). */
class GuardedMapType extends avro.types.MapType {
  _read(this: Block, tap: Tap): Record<string, unknown> {
    const values = this.valuesType!;
    const result: Record<string, unknown> = {};
    let count: number;
    while ((count = readBlockCount(tap, 1, 'map'))) {
      while (count--) {
        const key = tap.readString();
        // `result[key] = ...` would set the prototype for the key "__proto__" and lose the entry.
        if (key === '__proto__') Object.defineProperty(result, key, { value: values._read(tap), enumerable: true, writable: true, configurable: true });
        else result[key] = values._read(tap);
      }
    }
    return result;
  }

  _skip(this: Block, tap: Tap): void {
    const values = this.valuesType!;
    let count: number;
    while ((count = readBlockCount(tap, 1, 'map'))) {
      while (count--) {
        tap.skipString();
        values._skip(tap);
      }
    }
  }
}

/** A lower bound on the encoded size of any value of `type`, in bytes. */
function minEncodedBytes(type: InternalType, seen: Set<InternalType>): number {
  switch (type.typeName) {
    case 'null':
      return 0;
    case 'fixed':
      return type.size ?? 0;
    case 'record':
    case 'error': {
      if (seen.has(type)) return 0;
      seen.add(type);
      let total = 0;
      for (const field of type.fields ?? []) total += minEncodedBytes(field.type, seen);
      return total;
    }
    default:
      if (type.underlyingType) return minEncodedBytes(type.underlyingType, seen);
      // Every other type writes at least one byte: a varint, a length, a count or a union index.
      return 1;
  }
}
