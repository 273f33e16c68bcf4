/**
 * signalpath as a package, the whole path a team takes, against the real broker: `npm pack` this
 * repository → `signalpath init app` from the packed package (as `npx signalpath init` runs it) →
 * the project's lockfile resolved from the package's declared dependencies → `npm test` and
 * `tsc --noEmit` in the project → a contract of its own (`schemas/page-view/v1.avsc`: types
 * generated, the compatibility check refusing a breaking v2) → `signalpath produce`, `run` and `tail`
 * with that contract → `signalpath build` → the built context's command runs the topology.
 *
 * Offline, without the registry: the project's package-lock.json is resolved by npm itself from this
 * repository's lockfile (`npm install --package-lock-only --offline`, as `signalpath build` prunes a
 * context's lockfile), then node_modules is laid out from it: the unpacked tarball as
 * node_modules/signalpath, every other locked package linked to this repository's installed copy
 * (so the already-built Kafka client is reused, as the ship test does; a real `npm ci` of the ~340
 * packages took over a minute). No TypeScript loader is on the way: the package runs from dist/,
 * the project's TypeScript runs on Node 24's type stripping.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { importedPackages } from '../../runtime/packaging/compile.js';
import { sharedBroker, uniqueName } from '../support/broker.js';
import { PROJECT_ROOT } from '../support/kafka-fixtures.js';

const NODE_24_PATH = `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`;

/**
 * The environment of the commands this spec runs: Node 24 first on the PATH, and without the npm
 * settings of the `npm test` that may have started this run (CI runs `npm test --ignore-scripts`,
 * whose `npm_config_ignore_scripts` would make `npm pack` skip its prepack build).
 */
function commandEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => name.toLowerCase() !== 'npm_config_ignore_scripts'));
  return { ...inherited, PATH: NODE_24_PATH, ...env };
}

function run(command: string, args: readonly string[], cwd: string, env: Record<string, string> = {}): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, env: commandEnv(env), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
  if (result.error) throw result.error;
  return result;
}

function ok(result: SpawnSyncReturns<string>): SpawnSyncReturns<string> {
  expect(result.status, `${result.stdout}\n${result.stderr}`).to.equal(0);
  return result;
}

/** Files under `dir`, relative, with `/` separators. */
function filesUnder(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(full, base) : [path.relative(base, full).split(path.sep).join('/')];
  });
}

interface LockFile {
  readonly packages: Record<string, { version?: string; resolved?: string; dev?: boolean; optional?: boolean }>;
}

/**
 * node_modules for `projectDir` from its package-lock.json: signalpath from the unpacked tarball, each
 * other top-level package a link to this repository's installed copy of the same version.
 */
function layOutNodeModules(projectDir: string, unpacked: string): void {
  const lock = JSON.parse(readFileSync(path.join(projectDir, 'package-lock.json'), 'utf8')) as LockFile;
  const modules = path.join(projectDir, 'node_modules');
  mkdirSync(path.join(modules, '.bin'), { recursive: true });
  for (const [where, entry] of Object.entries(lock.packages)) {
    if (!where.startsWith('node_modules/') || where.slice('node_modules/'.length).includes('node_modules/')) continue;
    const name = where.slice('node_modules/'.length);
    if (name === 'signalpath') continue;
    const installed = path.join(PROJECT_ROOT, 'node_modules', name);
    if (entry.optional === true && !existsSync(installed)) continue; // another platform's build (esbuild's)
    const version = (JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as { version: string }).version;
    expect(version, `${name}: the project's lockfile and this repository's node_modules disagree`).to.equal(entry.version);
    mkdirSync(path.dirname(path.join(modules, name)), { recursive: true });
    symlinkSync(realpathSync(installed), path.join(modules, name));
  }
  cpSync(unpacked, path.join(modules, 'signalpath'), { recursive: true });
  symlinkSync('../signalpath/bin/signalpath.js', path.join(modules, '.bin', 'signalpath'));
  symlinkSync('../typescript/bin/tsc', path.join(modules, '.bin', 'tsc'));
}

const PAGE_VIEW_V1 = {
  type: 'record',
  name: 'PageView',
  namespace: 'com.example',
  doc: 'One page view, as the web tier reports it.',
  fields: [
    { name: 'view_id', type: 'string' },
    { name: 'user_id', type: 'string' },
    { name: 'ts', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'load_ms', type: 'double', doc: 'Time to interactive, ms.' },
  ],
};

const SLOW_PAGES = `/** Page views slower than 3 s, on the project's own contract. */
import { defineTopology, filterRecords, toOutput } from 'signalpath';
import { contractIn } from 'signalpath/schemas';
import type { PageView } from '../../schemas/types.generated.ts';

export const PageViewContract = contractIn<PageView>(new URL('../../schemas/', import.meta.url), 'page-view', 'user_id');

export default defineTopology({
  name: 'slow-pages',
  description: 'Page views slower than 3 s.',
  input: { topic: 'page-views', contract: PageViewContract, eventTime: (view) => view.ts, partitions: 2 },
  outputs: { slow: { topic: 'slow-pages.slow', contract: PageViewContract } },
  steps: (input) => input.step('slow-only', filterRecords((view) => view.load_ms > 3_000)).step('route', toOutput('slow')),
});
`;

const VIEWS = [
  { view_id: 'v1', user_id: 'u1', ts: 1_767_225_600_000, load_ms: 120 },
  { view_id: 'v2', user_id: 'u2', ts: 1_767_225_601_000, load_ms: 4_500 },
  { view_id: 'v3', user_id: 'u1', ts: 1_767_225_602_000, load_ms: 3_100 },
  { view_id: 'v4', user_id: 'u3', ts: 1_767_225_603_000, load_ms: 800 },
];

describe('integration: signalpath as a package (pack → init → test → own contract → run → build)', function () {
  this.timeout(600_000);
  let brokers: string;
  let tmp: string;
  let tarball: string;
  let unpacked: string;
  let app: string;

  /** `npx signalpath …` in `cwd`, with the package installed in `installedIn`. */
  const signalpath = (args: readonly string[], cwd = app, installedIn = cwd): SpawnSyncReturns<string> =>
    run(process.execPath, [path.join(installedIn, 'node_modules', '.bin', 'signalpath'), ...args], cwd);

  before(async () => {
    brokers = (await sharedBroker()).brokers;
    tmp = mkdtempSync(path.join(os.tmpdir(), 'signalpath-package-'));
    app = path.join(tmp, 'app');
  });

  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('npm pack builds dist/ and packs the public entry points, the contracts and the templates; no sources, lab, tests or topologies', () => {
    const packed = ok(run('npm', ['pack', '--json', '--pack-destination', tmp, '--loglevel=error'], PROJECT_ROOT));
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string; size: number; unpackedSize: number; files: { path: string }[] }[];
    tarball = path.join(tmp, info!.filename);
    console.log(`      tarball ${info!.filename}: ${(info!.size / 1024).toFixed(1)} kB packed, ${(info!.unpackedSize / 1024).toFixed(1)} kB unpacked, ${info!.files.length} files`);
    const files = info!.files.map((f) => f.path);
    for (const file of ['package.json', 'README.md', 'CHANGELOG.md', 'bin/signalpath.js', 'dist/runtime/index.js', 'dist/runtime/index.d.ts', 'dist/operators/index.d.ts', 'dist/schemas/index.d.ts', 'dist/runtime/testing/index.d.ts', 'dist/cli/package-main.js', 'dist/cli/container-main.js', 'dist/schemas/inference-event/v1.avsc', 'dist/runtime/packaging/templates/project/package.json.tmpl']) {
      expect(files, file).to.include(file);
    }
    const outside = files.filter((f) => /^(lab|test|topologies|scripts|cli|runtime|core|operators|schemas|dist\/(lab|topologies|scripts|test))\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')));
    expect(outside).to.deep.equal([]);

    mkdirSync(path.join(tmp, 'unpacked'));
    ok(run('tar', ['xzf', tarball, '-C', path.join(tmp, 'unpacked')], tmp));
    unpacked = path.join(tmp, 'unpacked', 'package');
    const pkg = JSON.parse(readFileSync(path.join(unpacked, 'package.json'), 'utf8')) as { private?: boolean; dependencies: Record<string, string>; exports: Record<string, unknown> };
    expect(pkg.private).to.equal(undefined);
    expect(Object.keys(pkg.exports)).to.deep.equal(['.', './operators', './schemas', './testing', './container', './package.json']);
    // Every package the compiled code imports is a dependency; TypeScript only for `signalpath build`, from the project.
    const compiled = filesUnder(path.join(unpacked, 'dist')).filter((f) => f.endsWith('.js')).map((f) => path.join(unpacked, 'dist', f));
    const imported = [...importedPackages(compiled)].filter((name) => name !== 'typescript');
    expect(imported.filter((name) => pkg.dependencies[name] === undefined)).to.deep.equal([]);
  });

  it('init (run from the packed package, as npx runs it) writes a project whose lockfile resolves from the declared dependencies, offline', () => {
    // What `npx --package <tarball> signalpath init app` does: install the package somewhere, run its bin.
    const npx = path.join(tmp, 'npx');
    mkdirSync(npx);
    writeFileSync(path.join(npx, 'package.json'), JSON.stringify({ name: 'npx-cache', private: true, dependencies: { signalpath: `file:${tarball}` } }));
    cpSync(path.join(PROJECT_ROOT, 'package-lock.json'), path.join(npx, 'package-lock.json'));
    ok(run('npm', ['install', '--package-lock-only', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], npx));
    layOutNodeModules(npx, unpacked);

    const init = ok(signalpath(['init', 'app', '--from', tarball], tmp, npx));
    expect(init.stdout).to.include('created app/');
    expect(filesUnder(app).sort()).to.deep.equal([
      '.gitignore', 'README.md', 'compose.yaml', 'package.json', 'schemas/README.md', 'topologies/slow-inferences/deploy.yaml',
      'topologies/slow-inferences/index.ts', 'topologies/slow-inferences/sample-input.jsonl', 'topologies/slow-inferences/slow-inferences.spec.ts', 'tsconfig.json',
    ]);
    const pkg = JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies).to.deep.equal({ signalpath: `file:${tarball}` });
    expect(readFileSync(path.join(app, 'topologies', 'slow-inferences', 'index.ts'), 'utf8')).to.include("from 'signalpath'").and.not.include('../../');
    expect(signalpath(['init', 'app'], tmp, npx).stderr).to.match(/is not empty/);

    // The project's lockfile, resolved by npm from the package's declared dependencies (seeded with this repository's versions).
    cpSync(path.join(PROJECT_ROOT, 'package-lock.json'), path.join(app, 'package-lock.json'));
    ok(run('npm', ['install', '--package-lock-only', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], app));
    const lock = JSON.parse(readFileSync(path.join(app, 'package-lock.json'), 'utf8')) as LockFile;
    expect(lock.packages['node_modules/signalpath']?.version).to.equal('0.1.0');
    expect(lock.packages['node_modules/rxjs']).to.not.equal(undefined);
    expect(lock.packages['node_modules/mocha'], 'a development dependency of signalpath').to.equal(undefined);
    layOutNodeModules(app, unpacked);
  });

  it('npm test runs the scaffolded spec with the test driver (Node 24 strips the types, no loader) and tsc accepts the project', () => {
    const tested = ok(run('npm', ['test', '--silent'], app));
    expect(tested.stdout).to.match(/# pass 2|ℹ pass 2/).and.to.match(/# fail 0|ℹ fail 0/);
    ok(run(process.execPath, [path.join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', app], app));
  });

  it('a contract of its own: types generated, and the same compatibility check refuses a breaking version', () => {
    mkdirSync(path.join(app, 'schemas', 'page-view'));
    writeFileSync(path.join(app, 'schemas', 'page-view', 'v1.avsc'), `${JSON.stringify(PAGE_VIEW_V1, null, 2)}\n`);
    ok(signalpath(['schemas', 'types']));
    const types = readFileSync(path.join(app, 'schemas', 'types.generated.ts'), 'utf8');
    expect(types).to.include('export interface PageView {').and.to.include('readonly load_ms: number;').and.to.include("'com.example.PageView': PageView;");

    const breaking = { ...PAGE_VIEW_V1, fields: [...PAGE_VIEW_V1.fields, { name: 'region', type: 'string' }] };
    writeFileSync(path.join(app, 'schemas', 'page-view', 'v2.avsc'), JSON.stringify(breaking));
    const refused = signalpath(['schemas', 'check']);
    expect(refused.status).to.equal(1);
    expect(refused.stderr).to.match(/page-view \(com\.example\.PageView\): v2 cannot read data written by v1 — not backward compatible/);
    rmSync(path.join(app, 'schemas', 'page-view', 'v2.avsc'));
    ok(signalpath(['schemas', 'check']));

    mkdirSync(path.join(app, 'topologies', 'slow-pages'));
    writeFileSync(path.join(app, 'topologies', 'slow-pages', 'index.ts'), SLOW_PAGES);
    ok(run(process.execPath, [path.join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', app], app));
  });

  it('produce, run and tail the project\'s topology on its own contract against the broker', () => {
    const input = uniqueName('page-views');
    const output = uniqueName('slow-pages');
    writeFileSync(path.join(app, 'views.jsonl'), VIEWS.map((v) => JSON.stringify(v)).join('\n'));
    ok(signalpath(['produce', input, '--contract', 'page-view', '--file', 'views.jsonl', '--partitions', '2', '--brokers', brokers]));
    const ran = ok(signalpath(['run', 'slow-pages', '--brokers', brokers, '--topic', `input=${input}`, '--topic', `slow=${output}`, '--topic', `dlq=${uniqueName('dlq')}`, '--group', uniqueName('pages'), '--until-idle', '3000', '--metrics-port', '0', '--quiet']));
    const summary = JSON.parse(ran.stdout.trim().split('\n').at(-1)!) as { consumed: number; produced: number; reason: string };
    expect(summary).to.include({ consumed: VIEWS.length, produced: 2, reason: 'idle' });
    // tail decodes by the record's schema header: the project's own contract.
    const tailed = ok(signalpath(['tail', output, '--max', '2', '--brokers', brokers]));
    const values = tailed.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { key: string; value: { view_id: string } }));
    expect(values.map((v) => v.value.view_id).sort()).to.deep.equal(['v2', 'v3']);
    expect(values.map((v) => v.key).sort()).to.deep.equal(['u1', 'u2']);
  });

  it('build writes the same kind of context as in this repository, and the context\'s command runs the topology from the package', () => {
    const built = ok(signalpath(['build', 'slow-pages']));
    expect(built.stdout).to.match(/warning: signalpath is file:/);
    const context = path.join(app, 'dist', 'slow-pages');
    expect(filesUnder(context).sort()).to.deep.equal([
      '.dockerignore', '.signalpath-build', 'Dockerfile', 'bin/signalpath.js', 'compose.service.yaml',
      'k8s/configmap.yaml', 'k8s/deployment.yaml', 'k8s/keda.yaml', 'k8s/pdb.yaml', 'k8s/secret.yaml',
      'package-lock.json', 'package.json', 'schemas/page-view/v1.avsc', 'schemas/types.generated.js', 'topologies/slow-pages/index.js',
    ]);
    const pkg = JSON.parse(readFileSync(path.join(context, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies).to.deep.equal({ signalpath: `file:${tarball}` });
    expect(readFileSync(path.join(context, 'bin', 'signalpath.js'), 'utf8')).to.include("import 'signalpath/container';");
    expect(readFileSync(path.join(context, 'Dockerfile'), 'utf8')).to.include('ENTRYPOINT ["/usr/bin/tini", "--", "signalpath", "run", "slow-pages"]');
    expect(readFileSync(path.join(context, 'k8s', 'keda.yaml'), 'utf8')).to.match(/maxReplicaCount: 2\b/).and.to.match(/consumerGroup: signalpath\.slow-pages\b/);
    const compose = parse(readFileSync(path.join(app, 'compose.yaml'), 'utf8')) as { services: Record<string, { build?: { context: string } }> };
    expect(Object.keys(compose.services)).to.deep.equal(['redpanda', 'slow-pages']);
    expect(compose.services['slow-pages']!.build!.context).to.equal('./dist/slow-pages');

    // The context's command (what the image's ENTRYPOINT runs), with the project's packages installed.
    symlinkSync(path.join(app, 'node_modules'), path.join(context, 'node_modules'));
    const input = uniqueName('page-views');
    ok(signalpath(['produce', input, '--contract', 'page-view', '--file', 'views.jsonl', '--brokers', brokers]));
    const ran = ok(run(process.execPath, [path.join(context, 'bin', 'signalpath.js'), 'run', 'slow-pages', '--topic', `input=${input}`, '--topic', `slow=${uniqueName('slow-pages')}`, '--topic', `dlq=${uniqueName('dlq')}`, '--group', uniqueName('built'), '--until-idle', '3000', '--metrics-port', '0', '--quiet'], context, { KAFKA_BROKERS: brokers }));
    expect(JSON.parse(ran.stdout.trim().split('\n').at(-1)!)).to.include({ consumed: VIEWS.length, produced: 2 });
    expect(existsSync(path.join(context, 'cli')), 'the CLI comes from the package, not compiled into the context').to.equal(false);
  });
});
