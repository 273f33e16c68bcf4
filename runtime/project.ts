/**
 * Which project the `signalpath` command works on, and where its topologies and contracts are.
 *
 * Two kinds. This repository itself (the framework's sources: topologies import the runtime by
 * relative path, and `signalpath build` compiles the CLI from source into the image). Or a project
 * that depends on the signalpath package (`signalpath init` makes one): its `topologies/` and
 * `schemas/` folders, or the folders its `signalpath.config.json` names; its topologies import
 * `signalpath`, and its image installs the package.
 *
 * The project is found from the working directory upwards: the first folder with a
 * `signalpath.config.json`, or with a package.json that lists `signalpath` as a dependency. When there
 * is none, the command works on the framework's own folder (where its `topologies/` are when it runs
 * from a clone).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { CONTRACTS, contractFrom, readSchemaCatalog, type Contract } from '../schemas/index.js';
import { ConfigError } from './config.js';

/** The file a project may keep at its root to say where its topologies and contracts are. */
export const PROJECT_CONFIG_FILE = 'signalpath.config.json';

export interface Project {
  /** The folder holding package.json (and signalpath.config.json, when there is one). */
  readonly root: string;
  /** Folder with one sub-folder per topology (`<name>/index.ts`). */
  readonly topologiesDir: string;
  /** The project's own contracts (`<name>/v<N>.avsc`), or undefined when it has none. */
  readonly schemasDir: string | undefined;
  /** True for the framework's own source tree (this repository), false for a project depending on the package. */
  readonly isFramework: boolean;
}

/** The framework's root: the folder of its package.json (the repository, or node_modules/signalpath). */
export const FRAMEWORK_ROOT = findFrameworkRoot(path.dirname(fileURLToPath(import.meta.url)));

/** True when the framework runs from its TypeScript sources (a clone), false when from compiled dist/. */
export const FRAMEWORK_FROM_SOURCE = existsSync(path.join(FRAMEWORK_ROOT, 'runtime', 'project.ts'));

function findFrameworkRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from, '..');
  }
}

const ProjectConfigSchema = z.strictObject({
  /** Folder of the topologies, relative to the config file. Default `topologies`. */
  topologies: z.string().min(1).default('topologies'),
  /** Folder of the project's contracts, relative to the config file. Default `schemas`. */
  schemas: z.string().min(1).default('schemas'),
});

interface PackageJson {
  readonly name?: string;
  readonly dependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
}

/** The project the working directory `cwd` belongs to (see the top of this file). */
export function findProject(cwd: string = process.cwd()): Project {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const configFile = path.join(dir, PROJECT_CONFIG_FILE);
    if (existsSync(configFile)) return projectAt(dir, readProjectConfig(configFile));
    const packageFile = path.join(dir, 'package.json');
    if (existsSync(packageFile) && dependsOnSignalpath(packageFile)) return projectAt(dir, ProjectConfigSchema.parse({}));
    if (path.dirname(dir) === dir) break;
  }
  return {
    root: FRAMEWORK_ROOT,
    topologiesDir: path.join(FRAMEWORK_ROOT, 'topologies'),
    schemasDir: undefined, // the framework's contracts are the built-in ones (schemas/index.ts)
    isFramework: true,
  };
}

function projectAt(root: string, config: z.output<typeof ProjectConfigSchema>): Project {
  const schemasDir = path.resolve(root, config.schemas);
  return {
    root,
    topologiesDir: path.resolve(root, config.topologies),
    schemasDir: existsSync(schemasDir) ? schemasDir : undefined,
    isFramework: false,
  };
}

function readProjectConfig(file: string): z.output<typeof ProjectConfigSchema> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  const parsed = ProjectConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(top level)'}: ${issue.message}`).join('; ');
    throw new ConfigError(`${file}: ${issues} (accepted: { "topologies": "<folder>", "schemas": "<folder>" })`);
  }
  return parsed.data;
}

function dependsOnSignalpath(packageFile: string): boolean {
  try {
    const pkg = JSON.parse(readFileSync(packageFile, 'utf8')) as PackageJson;
    return pkg.name !== 'signalpath' && (pkg.dependencies?.signalpath !== undefined || pkg.devDependencies?.signalpath !== undefined);
  } catch {
    return false;
  }
}

/**
 * The contracts a command can name (`produce --contract`, `tail`): the built-in ones, then the
 * project's own (`schemas/<name>/v<N>.avsc`), by full Avro name and by folder. A project's contract
 * may not reuse a built-in name.
 */
export function projectContracts(project: Project): ReadonlyMap<string, Contract<unknown>> {
  const contracts = new Map<string, Contract<unknown>>(CONTRACTS);
  if (project.schemasDir === undefined) return contracts;
  for (const versions of readSchemaCatalog(project.schemasDir)) {
    const clash = [...contracts.values()].find((c) => c.name === versions.name || c.folder === versions.folder);
    if (clash !== undefined) {
      throw new ConfigError(`${path.join(project.schemasDir, versions.folder)}: ${versions.name} (folder ${versions.folder}) clashes with the built-in contract ${clash.name} (folder ${clash.folder}); rename the folder or the record`);
    }
    contracts.set(versions.name, contractFrom(versions));
  }
  return contracts;
}

/** A contract by full Avro name or folder among {@link projectContracts}. */
export function findProjectContract(contracts: ReadonlyMap<string, Contract<unknown>>, nameOrFolder: string): Contract<unknown> | undefined {
  return contracts.get(nameOrFolder) ?? [...contracts.values()].find((c) => c.folder === nameOrFolder);
}
