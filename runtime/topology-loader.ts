/**
 * Finds a topology by name (`topologies/<name>/index.ts`) or by module path, and checks that the
 * module's default export is a topology made with `defineTopology`.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Topology } from './topology.js';
import { ConfigError } from './config.js';

export const TOPOLOGIES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'topologies');

/** Names of the topologies under topologies/. */
export function listTopologies(dir = TOPOLOGIES_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && ['index.ts', 'index.js'].some((f) => existsSync(path.join(dir, entry.name, f))))
    .map((entry) => entry.name)
    .sort();
}

export async function loadTopology(nameOrPath: string): Promise<Topology<unknown>> {
  let modulePath: string;
  if (nameOrPath.includes('/') || /\.[cm]?[jt]s$/.test(nameOrPath)) {
    modulePath = path.resolve(nameOrPath);
    if (!existsSync(modulePath)) throw new ConfigError(`topology module ${nameOrPath} does not exist`);
  } else {
    const candidates = ['index.ts', 'index.js'].map((f) => path.join(TOPOLOGIES_DIR, nameOrPath, f));
    const found = candidates.find((c) => existsSync(c));
    if (found === undefined) {
      const known = listTopologies();
      throw new ConfigError(`unknown topology "${nameOrPath}": expected one of ${known.join(', ') || '(none)'} (folders under topologies/), or a path to a topology module`);
    }
    modulePath = found;
  }
  const loaded = (await import(pathToFileURL(modulePath).href)) as { default?: unknown };
  const topology = loaded.default as Partial<Topology<unknown>> | undefined;
  if (!topology || typeof topology !== 'object' || !Array.isArray(topology.chain) || typeof topology.name !== 'string') {
    throw new ConfigError(`${modulePath} must default-export a topology made with defineTopology(...)`);
  }
  return topology as Topology<unknown>;
}
