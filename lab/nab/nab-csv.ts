/**
 * A parser for NAB's CSV files. They are simple enough not to need a CSV library: one header line,
 * comma-separated fields, no quoting, no embedded commas or newlines (timestamps and numbers only).
 * Anything else is rejected rather than guessed at.
 */

export interface NabCsvTable {
  readonly header: readonly string[];
  /** Data rows, blank lines skipped; every row has exactly `header.length` fields. */
  readonly rows: readonly (readonly string[])[];
}

/**
 * @param text the whole file
 * @param source file name used in error messages
 */
export function parseNabCsv(text: string, source: string): NabCsvTable {
  const lines = text.split(/\r?\n/);
  const headerLine = lines[0];
  if (headerLine === undefined || headerLine.trim() === '') {
    throw new Error(`${source}: empty CSV, expected a header line`);
  }
  if (headerLine.includes('"')) {
    throw new Error(`${source}: quoted CSV fields are not supported`);
  }
  const header = headerLine.split(',').map((name) => name.trim());
  const rows: string[][] = [];
  for (let lineIndex = 1; lineIndex < lines.length; lineIndex++) {
    const line = lines[lineIndex] ?? '';
    if (line.trim() === '') continue;
    const fields = line.split(',');
    if (fields.length !== header.length) {
      throw new Error(
        `${source}:${lineIndex + 1}: expected ${header.length} fields (${header.join(',')}), got ${fields.length}`,
      );
    }
    rows.push(fields);
  }
  return { header, rows };
}

/** Index of a named column, with an error listing the columns that are there. */
export function columnIndex(table: NabCsvTable, name: string, source: string): number {
  const index = table.header.indexOf(name);
  if (index < 0) {
    throw new Error(`${source}: no column "${name}" (columns: ${table.header.join(', ')})`);
  }
  return index;
}

/** A finite number from a CSV field, or an error naming the file, line and column. */
export function parseFiniteNumber(field: string, source: string, rowIndex: number, column: string): number {
  const value = Number(field);
  if (field.trim() === '' || !Number.isFinite(value)) {
    throw new Error(`${source}: data row ${rowIndex + 1}: ${column} "${field}" is not a finite number`);
  }
  return value;
}
