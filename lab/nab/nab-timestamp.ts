/**
 * NAB timestamps are naive wall-clock strings, `YYYY-MM-DD HH:MM:SS` in the data and
 * `YYYY-MM-DD HH:MM:SS.ffffff` in the label files. They carry no zone, so they are read as UTC:
 * only their order and equality matter to the scorer, and UTC has no DST gaps or repeated hours
 * that a local-time reading would introduce.
 */

const NAB_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/;

/** Milliseconds since the epoch (UTC) of a NAB timestamp; sub-millisecond digits are kept as a fraction. */
export function parseNabTimestampMs(text: string): number {
  const match = NAB_TIMESTAMP.exec(text.trim());
  if (match === null) {
    throw new Error(`"${text}" is not a NAB timestamp (expected YYYY-MM-DD HH:MM:SS[.ffffff])`);
  }
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number, number, number, number, number, number,
  ];
  const wholeMs = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(wholeMs);
  // Date.UTC silently rolls over out-of-range fields (Feb 30 becomes Mar 2); refuse those instead.
  if (
    check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day ||
    check.getUTCHours() !== hour || check.getUTCMinutes() !== minute || check.getUTCSeconds() !== second
  ) {
    throw new Error(`"${text}" is not a valid calendar date and time`);
  }
  const fraction = match[7];
  const fractionMs = fraction === undefined ? 0 : Number(`0.${fraction}`) * 1000;
  return wholeMs + fractionMs;
}

/** {@link parseNabTimestampMs} for a CSV field, with the file and data row in the error. */
export function parseNabTimestampField(field: string, source: string, rowIndex: number): number {
  try {
    return parseNabTimestampMs(field);
  } catch (error) {
    throw new Error(`${source}: data row ${rowIndex + 1}: ${(error as Error).message}`, { cause: error });
  }
}
