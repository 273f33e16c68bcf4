/**
 * Factory-time option checks for the operators: each throws a RangeError (a TypeError for a wrong
 * kind) that names the operator, the option, the accepted range and the value given.
 */
export function checkInteger(op: string, name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${op}: option '${name}' must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

export function checkNumber(op: string, name: string, value: unknown, min: number, max: number, minExclusive = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || (minExclusive ? value <= min : value < min) || value > max) {
    throw new RangeError(`${op}: option '${name}' must be a number in ${minExclusive ? '(' : '['}${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

export function checkFunction(op: string, name: string, value: unknown, required: boolean): void {
  if (value === undefined && !required) return;
  if (typeof value !== 'function') throw new TypeError(`${op}: option '${name}' must be a function, got ${typeof value}`);
}

export function checkOneOf<T extends string>(op: string, name: string, value: unknown, accepted: readonly T[]): T {
  if (typeof value !== 'string' || !(accepted as readonly string[]).includes(value)) {
    throw new RangeError(`${op}: option '${name}' must be one of ${accepted.map((a) => `'${a}'`).join(', ')}, got ${String(value)}`);
  }
  return value as T;
}
