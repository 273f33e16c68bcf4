import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Environment variable that points at a NAB checkout (the folder holding `data/`, `labels/`, `config/`). */
export const NAB_DATA_DIR_ENV = 'NAB_DATA_DIR';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Where the NAB corpus lives: `$NAB_DATA_DIR` if set, else `<project root>/../shared/data/nab`.
 * The corpus is read in place and never copied into the project.
 *
 * @throws Error naming `NAB_DATA_DIR` when the folder (or its `data/` and `labels/`) is missing.
 */
export function resolveNabDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[NAB_DATA_DIR_ENV];
  const dataDir = fromEnv !== undefined && fromEnv !== ''
    ? path.resolve(fromEnv)
    : path.resolve(projectRoot, '..', 'shared', 'data', 'nab');
  for (const required of ['', 'data', 'labels']) {
    const wanted = path.join(dataDir, required);
    if (!existsSync(wanted) || !statSync(wanted).isDirectory()) {
      throw new Error(
        `NAB corpus not found: ${wanted} is not a directory. ` +
          `Set ${NAB_DATA_DIR_ENV} to a NAB checkout (the folder with data/, labels/ and config/).`,
      );
    }
  }
  return dataDir;
}
