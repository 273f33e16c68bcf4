/**
 * The build context's package.json (production dependencies only: the packages the compiled code
 * imports, at the root project's ranges) and its lockfile, pruned from the root lockfile by npm itself
 * (`npm install --package-lock-only`, offline), so the container installs exactly the versions the
 * project was tested with.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

interface RootPackage {
  readonly version: string;
  readonly engines?: Record<string, string>;
  readonly dependencies?: Record<string, string>;
}

interface LockFile {
  readonly packages: Record<string, { version?: string; dev?: boolean }>;
}

/** `name → range` for each imported package: the root's declared range, else the locked version (a transitive dependency imported directly). */
export function productionDependencies(projectRoot: string, imported: ReadonlySet<string>): Record<string, string> {
  const root = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as RootPackage;
  const lock = JSON.parse(readFileSync(path.join(projectRoot, 'package-lock.json'), 'utf8')) as LockFile;
  const dependencies: Record<string, string> = {};
  const missing: string[] = [];
  for (const name of [...imported].sort()) {
    const declared = root.dependencies?.[name];
    const locked = lock.packages[`node_modules/${name}`];
    if (declared !== undefined) dependencies[name] = declared;
    else if (locked?.version !== undefined && locked.dev !== true) dependencies[name] = locked.version;
    else missing.push(name);
  }
  if (missing.length > 0) {
    throw new Error(`the compiled code imports ${missing.join(', ')}, which package.json does not list as a (production) dependency`);
  }
  return dependencies;
}

export function writePackageFiles(projectRoot: string, outDir: string, topologyName: string, dependencies: Record<string, string>): void {
  const root = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as RootPackage;
  const pkg = {
    name: `signalpath-${topologyName}`,
    version: root.version,
    description: `The signalpath topology ${topologyName}, built by \`signalpath build ${topologyName}\`.`,
    private: true,
    type: 'module',
    engines: root.engines,
    bin: { signalpath: './bin/signalpath.js' },
    dependencies,
  };
  writeFileSync(path.join(outDir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  copyFileSync(path.join(projectRoot, 'package-lock.json'), path.join(outDir, 'package-lock.json'));
  // npm keeps the locked versions of what is still needed and drops the rest; --offline: the root
  // lockfile already holds every version and integrity hash.
  execFileSync('npm', ['install', '--package-lock-only', '--ignore-scripts', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: outDir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}
