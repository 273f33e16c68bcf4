/**
 * `npm run schemas:types [schemasDir]` — regenerates schemas/types.generated.ts from the .avsc files.
 * The generator itself lives in schemas/typegen.ts so that a test can run it in memory.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSchemaCatalog } from '../schemas/catalog.js';
import { generateTypes } from '../schemas/typegen.js';

const schemasDir = resolve(process.argv[2] ?? fileURLToPath(new URL('../schemas/', import.meta.url)));
const target = join(schemasDir, 'types.generated.ts');
writeFileSync(target, generateTypes(readSchemaCatalog(schemasDir)));
console.log(`wrote ${target}`);
