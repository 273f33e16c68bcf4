/**
 * `signalpath schemas check|types`: the compatibility check and the type generator of this
 * repository's contracts (`npm run schemas:check`, `npm run schemas:types`), on the current project's
 * schemas/ folder, so a team's own event types follow the same rules as ours.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../runtime/config.js';
import { findProject, FRAMEWORK_FROM_SOURCE } from '../runtime/project.js';
import { readSchemaCatalog } from '../schemas/catalog.js';
import { checkBackwardCompatibility, describeResult } from '../schemas/compatibility.js';
import { SCHEMAS_DIR } from '../schemas/index.js';
import { generateTypes } from '../schemas/typegen.js';

export function schemasCommand(action: string): void {
  if (action !== 'check' && action !== 'types') throw new ConfigError(`schemas ${action}: expected check or types`);
  const project = findProject();
  // Outside a project, an installed package has no contracts of anyone's to check or type.
  const dir = project.isFramework ? (FRAMEWORK_FROM_SOURCE ? SCHEMAS_DIR : undefined) : project.schemasDir;
  if (dir === undefined) {
    console.log(`no schemas/ folder in ${project.isFramework ? process.cwd() : project.root}: nothing to ${action} (add schemas/<name>/v1.avsc in a project made with signalpath init)`);
    return;
  }
  const shown = path.relative(process.cwd(), dir) || '.';
  const contracts = readSchemaCatalog(dir);
  if (action === 'types') {
    const target = path.join(dir, 'types.generated.ts');
    writeFileSync(target, generateTypes(contracts, project.isFramework ? 'npm run schemas:types' : 'signalpath schemas types'));
    console.log(`wrote ${path.relative(process.cwd(), target)} (${contracts.length} contracts)`);
    return;
  }
  if (contracts.length === 0) console.log(`no contracts under ${shown}/ (schemas/<name>/v<N>.avsc)`);
  let failed = false;
  for (const result of checkBackwardCompatibility(contracts)) {
    const text = describeResult(result);
    if (result.incompatible.length > 0) {
      failed = true;
      console.error(text);
    } else {
      console.log(text);
    }
  }
  if (failed) {
    throw new Error('schemas check failed: add fields with defaults, keep names and types (or use aliases) so the newest version reads every older one');
  }
}
