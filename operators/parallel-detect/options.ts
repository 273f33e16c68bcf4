/** Option parsing shared by the detector factories: defaults, unknown names and ranges checked. */

export interface NumberOptionSpec {
  readonly default: number;
  readonly min: number;
  readonly max: number;
  /** Must be an integer. */
  readonly integer?: boolean;
  /** `min` itself is excluded. */
  readonly minExclusive?: boolean;
}

/** Resolves `given` against `spec`; throws a RangeError naming the detector, the option and the range. */
export function resolveNumberOptions<K extends string>(
  detector: string,
  spec: Readonly<Record<K, NumberOptionSpec>>,
  given: Readonly<Record<string, number>> | undefined,
): Record<K, number> {
  const out = {} as Record<K, number>;
  const names = Object.keys(spec) as K[];
  for (const name of Object.keys(given ?? {})) {
    if (!(names as string[]).includes(name)) {
      throw new RangeError(`${detector}: unknown option '${name}' (accepted: ${names.join(', ')})`);
    }
  }
  for (const name of names) {
    const s = spec[name];
    const value = given?.[name] ?? s.default;
    const low = s.minExclusive ? value <= s.min : value < s.min;
    if (typeof value !== 'number' || !Number.isFinite(value) || low || value > s.max || (s.integer && !Number.isInteger(value))) {
      const range = `${s.minExclusive ? '(' : '['}${s.min}, ${s.max}]${s.integer ? ', an integer' : ''}`;
      throw new RangeError(`${detector}: option '${name}' must be in ${range}, got ${String(value)}`);
    }
    out[name] = value;
  }
  return out;
}
