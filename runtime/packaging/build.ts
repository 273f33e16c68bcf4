/**
 * `signalpath build <topology>`: a self-contained build context for one topology (dist/<topology>/):
 * compiled JavaScript, schemas, a production package.json and lockfile, a Dockerfile, k8s/ manifests
 * and a compose service. Everything a container needs is derived from the topology itself (its input
 * topic and declared partitions) and its deploy.yaml, validated before anything is written.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { ConfigError, readSetting } from '../config.js';
import { listTopologies, loadTopology, TOPOLOGIES_DIR } from '../topology-loader.js';
import { compileTopology, importedPackages } from './compile.js';
import { addComposeService, composeService } from './compose-service.js';
import { readDeploySettings } from './deploy-settings.js';
import { DOCKERIGNORE, renderDockerfile } from './dockerfile.js';
import { buildManifests, renderManifests } from './k8s-manifests.js';
import { productionDependencies, writePackageFiles } from './package-files.js';

/** Marks a folder as a build context, which a later build may replace. */
const BUILD_MARKER = '.signalpath-build';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface BuildOptions {
  readonly topologyName: string;
  /** Default `dist/<topology>` under the project. */
  readonly outDir?: string;
  /** Add the service to the project's compose.yaml. Default true. */
  readonly compose?: boolean;
}

export interface BuildResult {
  readonly outDir: string;
  readonly dependencies: Readonly<Record<string, string>>;
  readonly inputTopic: string;
  readonly inputPartitions: number;
  readonly files: number;
}

export async function buildTopology(options: BuildOptions): Promise<BuildResult> {
  const name = options.topologyName;
  const topologyDir = path.join(TOPOLOGIES_DIR, name);
  const entry = path.join(topologyDir, 'index.ts');
  if (!existsSync(entry)) {
    throw new ConfigError(`unknown topology "${name}": expected one of ${listTopologies().join(', ') || '(none)'} (folders under topologies/ with an index.ts)`);
  }
  const deploy = readDeploySettings(topologyDir);
  // The container's environment is deploy.yaml's env: read the settings the manifests depend on from
  // it, and load the topology with it (a topology configured from the environment validates here).
  const env: NodeJS.ProcessEnv = { ...deploy.env };
  for (const [key, value] of Object.entries(deploy.env)) process.env[key] ??= value;
  const topology = await loadTopology(name);
  const metricsPort = readSetting('metricsPort', undefined, env) as number;
  if (metricsPort === 0) throw new ConfigError(`${topologyDir}/deploy.yaml: SIGNALPATH_METRICS_PORT=0 turns off /healthz and /readyz, which the container's probes need`);
  const inputPartitions = topology.input.partitions ?? (readSetting('partitions', undefined, env) as number);
  const group = (readSetting('group', undefined, env) as string | undefined) ?? `signalpath.${topology.name}`;
  const drainTimeoutMs = readSetting('drainTimeoutMs', undefined, env) as number;

  const outDir = path.resolve(options.outDir ?? path.join(PROJECT_ROOT, 'dist', name));
  // The folder is replaced whole: only ever one that is empty or that an earlier build wrote.
  if (existsSync(outDir) && readdirSync(outDir).length > 0 && !existsSync(path.join(outDir, BUILD_MARKER))) {
    throw new ConfigError(`--out ${outDir} is not empty and was not written by signalpath build; choose an empty or new folder`);
  }
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, BUILD_MARKER), `signalpath build ${name}\n`);
  const compiled = compileTopology(PROJECT_ROOT, entry, outDir);
  const dependencies = productionDependencies(PROJECT_ROOT, importedPackages(compiled.files));
  writePackageFiles(PROJECT_ROOT, outDir, name, dependencies);

  const bin = path.join(outDir, 'bin', 'signalpath.js');
  mkdirSync(path.dirname(bin), { recursive: true });
  writeFileSync(bin, `#!/usr/bin/env node\n// The container's \`signalpath\` command: the compiled CLI (run, produce, tail, hotspots).\nimport '../cli/container-main.js';\n`);
  chmodSync(bin, 0o755);

  writeFileSync(path.join(outDir, 'Dockerfile'), renderDockerfile({ topologyName: name, metricsPort }));
  writeFileSync(path.join(outDir, '.dockerignore'), DOCKERIGNORE);
  const manifests = buildManifests({
    topologyName: name,
    image: `signalpath-${name}:latest`,
    group,
    inputTopic: topology.input.topic,
    inputPartitions,
    drainTimeoutMs,
    metricsPort,
    deploy,
  });
  mkdirSync(path.join(outDir, 'k8s'));
  for (const [file, documents] of Object.entries(manifests)) writeFileSync(path.join(outDir, 'k8s', file), renderManifests(documents));

  const context = `./${path.relative(PROJECT_ROOT, outDir).split(path.sep).join('/')}`;
  const service = composeService({ topologyName: name, context, env: deploy.env });
  writeFileSync(path.join(outDir, 'compose.service.yaml'), stringify({ services: { [name]: service } }, { lineWidth: 0 }));
  if (options.compose !== false) addComposeService(path.join(PROJECT_ROOT, 'compose.yaml'), name, service);

  return { outDir, dependencies, inputTopic: topology.input.topic, inputPartitions, files: compiled.files.length };
}
