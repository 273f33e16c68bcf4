/**
 * `signalpath init <dir>`: a new project that depends on signalpath (runtime/packaging/scaffold.ts),
 * and what to do next. `--from` names the dependency: a version range, or a local tarball or folder
 * (a release candidate, or this repository packed with `npm pack`).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { FRAMEWORK_ROOT } from '../runtime/project.js';
import { scaffoldProject } from '../runtime/packaging/scaffold.js';

interface FrameworkPackage {
  readonly version: string;
  readonly devDependencies?: Record<string, string>;
}

export interface InitFlags {
  from?: string;
  topology: string;
}

/** `--from` as a package.json dependency: a path that exists becomes `file:<absolute path>`. */
export function signalpathSpec(from: string | undefined, version: string): string {
  if (from === undefined) return `^${version}`;
  if (from.startsWith('file:')) return `file:${path.resolve(from.slice('file:'.length))}`;
  if (existsSync(from)) return `file:${path.resolve(from)}`;
  return from;
}

export function initCommand(dir: string, flags: InitFlags): void {
  const framework = JSON.parse(readFileSync(path.join(FRAMEWORK_ROOT, 'package.json'), 'utf8')) as FrameworkPackage;
  const files = scaffoldProject({
    dir,
    signalpathSpec: signalpathSpec(flags.from, framework.version),
    typescriptRange: framework.devDependencies?.typescript ?? '^5.9.0',
    typesNodeRange: framework.devDependencies?.['@types/node'] ?? '^24.0.0',
    topologyName: flags.topology,
  });
  const shown = path.relative(process.cwd(), path.resolve(dir)) || '.';
  console.log(`created ${shown}/:`);
  for (const file of files) console.log(`  ${file}`);
  console.log(`next:
  cd ${shown} && npm install
  npm test                      # the topology's spec with the test driver, and the contracts' check
  docker compose up -d redpanda && export KAFKA_BROKERS=localhost:19092
  npx signalpath run ${flags.topology}`);
}
