/**
 * `signalpath new <name>`: writes a topology an author can test and run at once, from the templates in
 * runtime/packaging/templates/topology/ (`__NAME__` is replaced by the name).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../config.js';
import { TOPOLOGY_NAME } from '../topology.js';

export const TEMPLATES_DIR = fileURLToPath(new URL('./templates/topology/', import.meta.url));

/** Template file → file written into topologies/<name>/. */
const FILES: readonly (readonly [template: string, target: (name: string) => string])[] = [
  ['index.ts.tmpl', () => 'index.ts'],
  ['spec.ts.tmpl', (name) => `${name}.spec.ts`],
  ['sample-input.jsonl.tmpl', () => 'sample-input.jsonl'],
  ['deploy.yaml.tmpl', () => 'deploy.yaml'],
];

/** Why `name` cannot be a topology name, or null when it can. */
export function topologyNameProblem(name: string): string | null {
  if (TOPOLOGY_NAME.test(name)) return null;
  return `"${name}" is not a valid topology name: it names the consumer group signalpath.<name> and the topics <name>.dlq and <name>.mentions, so use 1–63 lower-case letters, digits and '-', starting with a letter (e.g. "latency-watch")`;
}

/** Writes topologies/<name>/ under `topologiesDir`; returns the files written. Refuses a bad or taken name. */
export function scaffoldTopology(name: string, topologiesDir: string): string[] {
  const problem = topologyNameProblem(name);
  if (problem !== null) throw new ConfigError(problem);
  const dir = path.join(topologiesDir, name);
  if (existsSync(dir)) throw new ConfigError(`topology "${name}" already exists (${dir}); choose another name or remove the folder`);
  mkdirSync(dir, { recursive: true });
  return FILES.map(([template, target]) => {
    const file = path.join(dir, target(name));
    writeFileSync(file, readFileSync(path.join(TEMPLATES_DIR, template), 'utf8').replaceAll('__NAME__', name));
    return file;
  });
}
