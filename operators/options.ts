/**
 * Factory-time option checks for every operator and its helpers (the one place they live): each
 * throws a RangeError (a TypeError for a wrong kind) worded the same way,
 * `<operator>: option '<name>' must be <accepted range>, got <value>`.
 */

/** An integer (a safe one: beyond 2^53 a count is meaningless) in [min, max]. */
export function checkInteger(op: string, name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${op}: option '${name}' must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

/** A finite number in [min, max], or (min, max] when `minExclusive`. */
export function checkNumber(op: string, name: string, value: unknown, min: number, max: number, minExclusive = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || (minExclusive ? value <= min : value < min) || value > max) {
    throw new RangeError(`${op}: option '${name}' must be a number in ${minExclusive ? '(' : '['}${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

/** A function; `undefined` passes when not `required`. */
export function checkFunction(op: string, name: string, value: unknown, required: boolean): void {
  if (value === undefined && !required) return;
  if (typeof value !== 'function') throw new TypeError(`${op}: option '${name}' must be a function, got ${typeof value}`);
}

/** One of the `accepted` strings. */
export function checkOneOf<T extends string>(op: string, name: string, value: unknown, accepted: readonly T[]): T {
  if (typeof value !== 'string' || !(accepted as readonly string[]).includes(value)) {
    throw new RangeError(`${op}: option '${name}' must be one of ${accepted.map((a) => `'${a}'`).join(', ')}, got ${String(value)}`);
  }
  return value as T;
}

/** true or false. */
export function checkBoolean(op: string, name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${op}: option '${name}' must be true or false, got ${String(value)}`);
  return value;
}

/** A list of 1 to `max` fields, each with a non-empty name of its own and a `valueOf` function. */
export function checkFields(op: string, fields: unknown, max: number): void {
  if (!Array.isArray(fields) || fields.length < 1 || fields.length > max) {
    throw new RangeError(`${op}: option 'fields' must list 1 to ${max} fields, got ${Array.isArray(fields) ? fields.length : String(fields)}`);
  }
  const names = new Set<string>();
  for (const field of fields as readonly ({ name?: unknown; valueOf?: unknown } | undefined)[]) {
    if (typeof field?.name !== 'string' || field.name === '') throw new TypeError(`${op}: option 'fields': every field needs a non-empty name`);
    if (names.has(field.name)) throw new RangeError(`${op}: option 'fields': field '${field.name}' is listed twice`);
    names.add(field.name);
    checkFunction(op, `fields['${field.name}'].valueOf`, field.valueOf, true);
  }
}
