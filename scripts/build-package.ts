/**
 * `npm run build` (and `prepack`): the package in dist/ — tsc -p tsconfig.build.json compiles the
 * entry points and what they import to ES modules with .d.ts files; then the files the code reads at
 * run time beside the modules that read them: the contracts' .avsc files (schemas/index.ts reads
 * them relative to itself) and the scaffolding templates (runtime/packaging/scaffold.ts).
 *
 * Only the folders the build writes are replaced: dist/<topology>/ build contexts stay.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
/** What tsc writes under dist/ (the layers the entry points reach). */
export const PACKAGE_DIST_FOLDERS = ['core', 'operators', 'runtime', 'schemas', 'cli'] as const;

for (const folder of PACKAGE_DIST_FOLDERS) rmSync(path.join(dist, folder), { recursive: true, force: true });
execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });

const unexpected = readdirSync(dist).filter((entry) => statSync(path.join(dist, entry)).isDirectory() && !existsSync(path.join(dist, entry, '.signalpath-build')) && !(PACKAGE_DIST_FOLDERS as readonly string[]).includes(entry));
if (unexpected.length > 0) throw new Error(`the package build reached ${unexpected.map((f) => `dist/${f}/`).join(', ')}: an entry point imports beyond core, operators, runtime, schemas and cli`);

/** Copies the files under `from` whose names pass `keep`, keeping the folder layout. */
function copyFiles(from: string, to: string, keep: (name: string) => boolean): number {
  let copied = 0;
  for (const entry of readdirSync(from)) {
    const source = path.join(from, entry);
    if (statSync(source).isDirectory()) copied += copyFiles(source, path.join(to, entry), keep);
    else if (keep(entry)) {
      cpSync(source, path.join(to, entry));
      copied++;
    }
  }
  return copied;
}

const schemas = copyFiles(path.join(root, 'schemas'), path.join(dist, 'schemas'), (name) => name.endsWith('.avsc'));
const templates = copyFiles(path.join(root, 'runtime', 'packaging', 'templates'), path.join(dist, 'runtime', 'packaging', 'templates'), () => true);
console.log(`built dist/: ${PACKAGE_DIST_FOLDERS.map((f) => `${f}/`).join(' ')}(+ ${schemas} .avsc, ${templates} templates)`);
