/**
 * `signalpath new <name>` and `signalpath init <dir>`: a topology an author can test and run at once,
 * and a project around it, from the templates in runtime/packaging/templates/ (`__NAME__` is replaced
 * by the topology's name, `__PROJECT__` by the project's).
 *
 * A topology is written in one of two flavours: for this repository (imports by relative path, a
 * mocha spec) or for a project that depends on the package (imports `signalpath`, a `node --test`
 * spec that Node 24 runs as TypeScript without a loader).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../config.js';
import { TOPOLOGY_NAME } from '../topology.js';

export const TEMPLATES_DIR = fileURLToPath(new URL('./templates/topology/', import.meta.url));
export const PROJECT_TEMPLATES_DIR = fileURLToPath(new URL('./templates/project/', import.meta.url));

/** Where a topology goes: this repository, or a project that depends on the signalpath package. */
export type ScaffoldFlavour = 'framework' | 'project';

interface TemplateFile {
  readonly template: string;
  readonly target: (name: string) => string;
}

const TOPOLOGY_FILES: Readonly<Record<ScaffoldFlavour, readonly TemplateFile[]>> = {
  framework: [
    { template: path.join(TEMPLATES_DIR, 'index.ts.tmpl'), target: () => 'index.ts' },
    { template: path.join(TEMPLATES_DIR, 'spec.ts.tmpl'), target: (name) => `${name}.spec.ts` },
    { template: path.join(TEMPLATES_DIR, 'sample-input.jsonl.tmpl'), target: () => 'sample-input.jsonl' },
    { template: path.join(TEMPLATES_DIR, 'deploy.yaml.tmpl'), target: () => 'deploy.yaml' },
  ],
  project: [
    { template: path.join(TEMPLATES_DIR, 'index.ts.tmpl'), target: () => 'index.ts' },
    { template: path.join(PROJECT_TEMPLATES_DIR, 'topology.spec.ts.tmpl'), target: (name) => `${name}.spec.ts` },
    { template: path.join(TEMPLATES_DIR, 'sample-input.jsonl.tmpl'), target: () => 'sample-input.jsonl' },
    { template: path.join(TEMPLATES_DIR, 'deploy.yaml.tmpl'), target: () => 'deploy.yaml' },
  ],
};

/** How the topology module imports the framework, per flavour. */
const IMPORTS: Readonly<Record<ScaffoldFlavour, Readonly<Record<string, string>>>> = {
  framework: {
    __IMPORT_MAIN__: '../../runtime/index.js',
    __IMPORT_SCHEMAS__: '../../schemas/index.js',
    __TEST_COMMAND__: 'npx mocha topologies/__NAME__/__NAME__.spec.ts',
  },
  project: {
    __IMPORT_MAIN__: 'signalpath',
    __IMPORT_SCHEMAS__: 'signalpath/schemas',
    __TEST_COMMAND__: 'node --test topologies/__NAME__/__NAME__.spec.ts',
  },
};

/** Why `name` cannot be a topology name, or null when it can. */
export function topologyNameProblem(name: string): string | null {
  if (TOPOLOGY_NAME.test(name)) return null;
  return `"${name}" is not a valid topology name: it names the consumer group signalpath.<name> and the topics <name>.dlq and <name>.mentions, so use 1–63 lower-case letters, digits and '-', starting with a letter (e.g. "latency-watch")`;
}

function render(template: string, values: Readonly<Record<string, string>>): string {
  let text = readFileSync(template, 'utf8');
  // Placeholders may expand to text holding other placeholders (__TEST_COMMAND__ holds __NAME__).
  for (const [placeholder, value] of Object.entries(values)) text = text.replaceAll(placeholder, value);
  for (const [placeholder, value] of Object.entries(values)) text = text.replaceAll(placeholder, value);
  return text;
}

/** Writes <topologiesDir>/<name>/; returns the files written. Refuses a bad or taken name. */
export function scaffoldTopology(name: string, topologiesDir: string, flavour: ScaffoldFlavour = 'framework'): string[] {
  const problem = topologyNameProblem(name);
  if (problem !== null) throw new ConfigError(problem);
  const dir = path.join(topologiesDir, name);
  if (existsSync(dir)) throw new ConfigError(`topology "${name}" already exists (${dir}); choose another name or remove the folder`);
  mkdirSync(dir, { recursive: true });
  const values = { ...IMPORTS[flavour], __NAME__: name };
  return TOPOLOGY_FILES[flavour].map(({ template, target }) => {
    const file = path.join(dir, target(name));
    writeFileSync(file, render(template, values));
    return file;
  });
}

export interface ProjectScaffold {
  /** The folder to create (new or empty). Its base name becomes the package name. */
  readonly dir: string;
  /** The `signalpath` dependency as package.json writes it: a range (`^0.1.0`) or `file:<path>`. */
  readonly signalpathSpec: string;
  /** Ranges of the project's development dependencies (TypeScript and Node's types). */
  readonly typescriptRange: string;
  readonly typesNodeRange: string;
  /** The first topology. */
  readonly topologyName: string;
}

/** An npm package name from a folder name: lower case, `[a-z0-9-._~]`, at most 214 characters. */
export function packageNameFor(dir: string): string {
  const name = path.basename(path.resolve(dir)).toLowerCase().replace(/[^a-z0-9-._~]+/g, '-').replace(/^[-._]+/, '').slice(0, 214);
  return name === '' ? 'signalpath-project' : name;
}

/** Writes a project that depends on signalpath; returns the files written, relative to `dir`. */
export function scaffoldProject(options: ProjectScaffold): string[] {
  const dir = path.resolve(options.dir);
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new ConfigError(`${dir} is not empty: init creates a project in a new or empty folder`);
  const problem = topologyNameProblem(options.topologyName);
  if (problem !== null) throw new ConfigError(`--topology: ${problem}`);
  mkdirSync(path.join(dir, 'schemas'), { recursive: true });
  const values = {
    __PROJECT__: packageNameFor(dir),
    __SIGNALPATH_SPEC__: options.signalpathSpec,
    __TYPESCRIPT__: options.typescriptRange,
    __TYPES_NODE__: options.typesNodeRange,
    __NAME__: options.topologyName,
  };
  const files: [template: string, target: string][] = [
    ['package.json.tmpl', 'package.json'],
    ['tsconfig.json.tmpl', 'tsconfig.json'],
    ['README.md.tmpl', 'README.md'],
    ['compose.yaml.tmpl', 'compose.yaml'],
    ['gitignore.tmpl', '.gitignore'],
    ['schemas-README.md.tmpl', 'schemas/README.md'],
  ];
  const written = files.map(([template, target]) => {
    writeFileSync(path.join(dir, target), render(path.join(PROJECT_TEMPLATES_DIR, template), values));
    return target;
  });
  const topologyFiles = scaffoldTopology(options.topologyName, path.join(dir, 'topologies'), 'project');
  return [...written, ...topologyFiles.map((file) => path.relative(dir, file))];
}
