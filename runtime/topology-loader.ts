/**
 * Finds a topology by name (`<topologies>/<name>/index.ts`, in the project the command runs in: see
 * project.ts) or by module path, and checks that the module's default export is a topology made with
 * `defineTopology`.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Topology } from './topology.js';
import { ConfigError } from './config.js';
import { findProject, type Project } from './project.js';

/** The framework's own topologies (this repository's topologies/). */
export const TOPOLOGIES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'topologies');

/** Names of the topologies under `dir` (default: this repository's topologies/). */
export function listTopologies(dir = TOPOLOGIES_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && ['index.ts', 'index.js'].some((f) => existsSync(path.join(dir, entry.name, f))))
    .map((entry) => entry.name)
    .sort();
}

/** The module file of topology `name` in `project`; a ConfigError naming the known ones when there is none. */
export function topologyModule(name: string, project: Project): string {
  const candidates = ['index.ts', 'index.js'].map((f) => path.join(project.topologiesDir, name, f));
  const found = candidates.find((c) => existsSync(c));
  if (found === undefined) {
    const known = listTopologies(project.topologiesDir);
    const where = path.relative(process.cwd(), project.topologiesDir) || '.';
    throw new ConfigError(`unknown topology "${name}": expected one of ${known.join(', ') || '(none)'} (folders under ${where}/), or a path to a topology module`);
  }
  return found;
}

export async function loadTopology(nameOrPath: string, project: Project = findProject()): Promise<Topology<unknown>> {
  let modulePath: string;
  if (nameOrPath.includes('/') || /\.[cm]?[jt]s$/.test(nameOrPath)) {
    modulePath = path.resolve(nameOrPath);
    if (!existsSync(modulePath)) throw new ConfigError(`topology module ${nameOrPath} does not exist`);
  } else {
    modulePath = topologyModule(nameOrPath, project);
  }
  const loaded = (await import(pathToFileURL(modulePath).href)) as { default?: unknown };
  const topology = loaded.default as Partial<Topology<unknown>> | undefined;
  if (!topology || typeof topology !== 'object' || !Array.isArray(topology.chain) || typeof topology.name !== 'string') {
    throw new ConfigError(`${modulePath} must default-export a topology made with defineTopology(...)`);
  }
  return topology as Topology<unknown>;
}
