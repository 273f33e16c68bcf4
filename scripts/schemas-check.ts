/**
 * `npm run schemas:check [schemasDir]` — fails (exit 1) when the newest version of a contract cannot
 * read data written by an older one; prints one line per contract. Also fails when a schema file does
 * not parse. The logic lives in schemas/compatibility.ts.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSchemaCatalog } from '../schemas/catalog.js';
import { checkBackwardCompatibility, describeResult } from '../schemas/compatibility.js';

const schemasDir = resolve(process.argv[2] ?? fileURLToPath(new URL('../schemas/', import.meta.url)));

let failed = false;
try {
  for (const result of checkBackwardCompatibility(readSchemaCatalog(schemasDir))) {
    const text = describeResult(result);
    if (result.incompatible.length > 0) {
      failed = true;
      console.error(text);
    } else {
      console.log(text);
    }
  }
} catch (err) {
  console.error(`schemas:check: ${(err as Error).message}`);
  failed = true;
}
if (failed) {
  console.error('schemas:check failed: add fields with defaults, keep names and types (or use aliases) so the newest version reads every older one');
}
process.exitCode = failed ? 1 : 0;
