/**
 * The whole authoring path on a fresh copy of the project, against the real broker:
 * `signalpath new demo` → the scaffold's own test passes → `signalpath build demo` → production
 * dependencies installed from the generated package.json and lockfile in an empty folder, as the
 * Dockerfile's build stage does → the Dockerfile's ENTRYPOINT run with node and the runtime stage's
 * ENV → records flow → SIGTERM drains, exits 0 and commits every offset.
 *
 * The one shortcut: building @confluentinc/kafka-javascript from source takes ~80 s of CPU, so by
 * default `npm ci` runs with --ignore-scripts and the client's native build (its .node and
 * librdkafka, built from source by scripts/setup.sh the same way) is copied in. Set
 * SIGNALPATH_TEST_BUILD_KAFKA_CLIENT=1 to build it from source in the temporary folder instead, with
 * CKJS_LINKING=dynamic as the Dockerfile does.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { InferenceEventContract, MentionContract, type InferenceEvent, type Mention } from '../../schemas/index.js';
import { committedOffsets, endOffsets, ensureTopics } from '../../runtime/kafka/admin.js';
import { readAll } from '../../runtime/kafka/topic-reader.js';
import { writeTopic } from '../../runtime/kafka/topic-writer.js';
import { createTopicSerde } from '../../runtime/serde/index.js';
import { sharedBroker, uniqueName } from '../support/broker.js';
import { headersOf, PROJECT_ROOT, sleep } from '../support/kafka-fixtures.js';
import { execForm, readDockerfile, stageEnv } from '../packaging/dockerfile-reader.js';

/** Left out of the copy: what a fresh clone does not have, and what the copy links instead. */
const NOT_COPIED = new Set(['node_modules', '.git', 'dist', '.cache', '.data', 'reports']);
const NODE_24_PATH = `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`;

function run(command: string, args: readonly string[], cwd: string, env: Record<string, string> = {}): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, env: { ...process.env, PATH: NODE_24_PATH, ...env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  return result;
}

function signalpath(copy: string, args: readonly string[]): SpawnSyncReturns<string> {
  return run(process.execPath, [path.join(copy, 'bin', 'signalpath.js'), ...args], copy);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('integration: ship a topology (new → test → build → run the built entrypoint)', function () {
  this.timeout(600_000);
  let brokers: string;
  let tmp: string;
  let copy: string;
  let context: string;
  let app: string;

  before(async () => {
    brokers = (await sharedBroker()).brokers;
    tmp = mkdtempSync(path.join(os.tmpdir(), 'signalpath-ship-'));
    copy = path.join(tmp, 'project');
    cpSync(PROJECT_ROOT, copy, { recursive: true, filter: (source) => !NOT_COPIED.has(path.relative(PROJECT_ROOT, source)) });
    symlinkSync(realpathSync(path.join(PROJECT_ROOT, 'node_modules')), path.join(copy, 'node_modules'));
    context = path.join(copy, 'dist', 'demo');
    app = path.join(tmp, 'app');
  });

  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('new refuses a name that is not topic-safe or already taken, saying why', () => {
    const bad = signalpath(copy, ['new', 'My_Topology']);
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.match(/"My_Topology" is not a valid topology name: .*lower-case letters, digits and '-'/);
    const taken = signalpath(copy, ['new', 'latency-watch']);
    expect(taken.status).to.equal(2);
    expect(taken.stderr).to.match(/topology "latency-watch" already exists/);
  });

  it('new demo scaffolds a topology whose own test passes', () => {
    const created = signalpath(copy, ['new', 'demo']);
    expect(created.status, created.stderr).to.equal(0);
    expect(readdirSync(path.join(copy, 'topologies', 'demo')).sort()).to.deep.equal(['demo.spec.ts', 'deploy.yaml', 'index.ts', 'sample-input.jsonl']);
    const tested = run(process.execPath, [path.join(copy, 'node_modules', 'mocha', 'bin', 'mocha.js'), 'topologies/demo/demo.spec.ts'], copy);
    expect(tested.status, tested.stdout + tested.stderr).to.equal(0);
    expect(tested.stdout).to.match(/2 passed, 0 failed/);
  });

  it('build demo writes a context with only what the topology needs, and its compose service', () => {
    const built = signalpath(copy, ['build', 'demo']);
    expect(built.status, built.stderr).to.equal(0);
    for (const file of ['Dockerfile', '.dockerignore', 'package.json', 'package-lock.json', 'bin/signalpath.js', 'cli/container-main.js', 'cli/program.js', 'core/envelope.js', 'core/settlement.js', 'topologies/demo/index.js', 'schemas/mention/v1.avsc', 'k8s/deployment.yaml', 'k8s/keda.yaml', 'compose.service.yaml']) {
      expect(existsSync(path.join(context, file)), file).to.equal(true);
    }
    // The full command line, the development commands, the lab (NAB scorer included) and the other topologies stay out.
    for (const absent of ['cli/main.js', 'cli/dev-commands.js', 'cli/demo-command.js', 'lab', 'evaluation', 'topologies/latency-watch', 'topologies/demo/demo.spec.js', 'runtime/packaging']) {
      expect(existsSync(path.join(context, absent)), absent).to.equal(false);
    }
    const pkg = JSON.parse(readFileSync(path.join(context, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies?: unknown };
    expect(pkg.devDependencies).to.equal(undefined);
    expect(pkg.dependencies).to.include.keys('@confluentinc/kafka-javascript', 'rxjs', 'avsc', 'zod', 'commander');
    expect(pkg.dependencies).to.not.have.any.keys('chart.js', 'cli-progress', 'typescript', 'mocha', 'yaml', 'piscina');
    const lock = JSON.parse(readFileSync(path.join(context, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; dev?: boolean }> };
    const rootLock = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package-lock.json'), 'utf8')) as typeof lock;
    expect(lock.packages['']).to.deep.include({ dependencies: pkg.dependencies });
    expect(lock.packages['node_modules/typescript']).to.equal(undefined);
    // Pruned, never re-resolved: every locked version is the root lockfile's.
    for (const [where, entry] of Object.entries(lock.packages)) {
      if (where !== '') expect(entry.version, where).to.equal(rootLock.packages[where]?.version);
    }
    const compose = parse(readFileSync(path.join(copy, 'compose.yaml'), 'utf8')) as { services: Record<string, { build: { context: string }; environment: Record<string, string> }> };
    expect(compose.services.demo!.build.context).to.equal('./dist/demo');
    expect(compose.services.demo!.environment.KAFKA_BROKERS).to.equal('redpanda:9092');
    const scaled = readFileSync(path.join(context, 'k8s', 'keda.yaml'), 'utf8');
    expect(scaled).to.match(/maxReplicaCount: 4\b/).and.to.match(/consumerGroup: signalpath\.demo\b/);
  });

  it('installs its production dependencies as the Dockerfile does, runs its ENTRYPOINT against the broker, and drains on SIGTERM', async function () {
    // Build stage: COPY package.json package-lock.json → npm ci --omit=dev → COPY . (minus .dockerignore).
    const [buildStage, runtimeStage] = readDockerfile(readFileSync(path.join(context, 'Dockerfile'), 'utf8'));
    mkdirSync(app);
    for (const file of ['package.json', 'package-lock.json']) cpSync(path.join(context, file), path.join(app, file));
    const fromSource = process.env.SIGNALPATH_TEST_BUILD_KAFKA_CLIENT === '1';
    // A source build of librdkafka took over 10 minutes on a busy 2-core machine.
    if (fromSource) this.timeout(3_600_000);
    const headers = path.join(PROJECT_ROOT, '.cache', 'node-headers', process.versions.node);
    const installed = run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error', ...(fromSource ? [] : ['--ignore-scripts'])], app, {
      ...stageEnv(buildStage!),
      npm_config_nodedir: headers,
    });
    expect(installed.status, installed.stderr).to.equal(0);
    expect(existsSync(path.join(app, 'node_modules', 'typescript')), 'a dev dependency was installed').to.equal(false);
    if (!fromSource) {
      const client = 'node_modules/@confluentinc/kafka-javascript/build';
      for (const file of ['Release/confluent-kafka-javascript.node', 'deps/librdkafka.so.1', 'deps/librdkafka++.so.1']) {
        cpSync(path.join(PROJECT_ROOT, client, file), path.join(app, client, file));
      }
    }
    const ignored = new Set(readFileSync(path.join(context, '.dockerignore'), 'utf8').split('\n').filter(Boolean));
    for (const entry of readdirSync(context)) if (!ignored.has(entry) && !['package.json', 'package-lock.json'].includes(entry)) cpSync(path.join(context, entry), path.join(app, entry), { recursive: true });
    const loads = run(process.execPath, ['-e', "require('@confluentinc/kafka-javascript')"], app);
    expect(loads.status, loads.stderr).to.equal(0);

    // Runtime stage: ENTRYPOINT after tini, `signalpath` being the package's bin, with the stage's ENV.
    const entrypoint = execForm(runtimeStage!, 'ENTRYPOINT');
    const argv = entrypoint.slice(entrypoint.indexOf('--') + 1);
    expect(argv.slice(0, 3)).to.deep.equal(['signalpath', 'run', 'demo']);
    const bin = (JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin.signalpath!;

    const input = uniqueName('ship-in');
    const mentions = uniqueName('ship-mentions');
    const dlq = uniqueName('ship-dlq');
    const group = uniqueName('ship');
    const metricsPort = await freePort();
    const sample = readFileSync(path.join(copy, 'topologies', 'demo', 'sample-input.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as InferenceEvent);
    await ensureTopics(brokers, [{ topic: input, partitions: 4 }]);
    await writeTopic(sample, { brokers, topic: input, contract: InferenceEventContract });

    // Extra arguments after the image name go after the ENTRYPOINT, as with `docker run image --topic …`.
    const child = spawn(process.execPath, [path.join(app, bin), ...argv.slice(1), '--topic', `input=${input}`, '--topic', `mentions=${mentions}`, '--topic', `dlq=${dlq}`, '--commit-interval', '200'], {
      cwd: app,
      env: { PATH: NODE_24_PATH, HOME: tmp, ...stageEnv(runtimeStage!), KAFKA_BROKERS: brokers, SIGNALPATH_GROUP: group, SIGNALPATH_METRICS_PORT: String(metricsPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const slow = sample.filter((e) => e.latency_ms > 2_000 && e.confidence >= 0 && e.confidence <= 1).map((e) => e.event_id).sort();
      const bad = sample.filter((e) => !(e.confidence >= 0 && e.confidence <= 1)).map((e) => e.event_id);
      expect(slow).to.have.length(2);
      expect(bad).to.have.length(1);
      const deadline = Date.now() + 90_000;
      let mentioned: string[] = [];
      let deadLettered = 0;
      let committed = 0;
      while (Date.now() < deadline) {
        const serde = createTopicSerde({ contract: MentionContract, topic: mentions });
        mentioned = (await readAll(brokers, mentions).catch(() => [])).map((m) => serde.decode(m.value!, headersOf(m)) as Mention).map((m) => m.evidence_event_ids[0]!).sort();
        deadLettered = (await readAll(brokers, dlq).catch(() => [])).length;
        committed = (await committedOffsets(brokers, group, input, 4)).reduce((sum, c) => sum + Math.max(0, c.offset), 0);
        if (mentioned.length >= slow.length && deadLettered >= 1 && committed === sample.length) break;
        await sleep(500);
      }
      expect(mentioned, stderr).to.deep.equal(slow);
      expect(deadLettered).to.equal(bad.length);
      expect(committed).to.equal(sample.length);

      // The HEALTHCHECK's endpoint, and readiness once caught up.
      expect((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status).to.equal(200);
      expect((await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).status).to.equal(200);

      child.kill('SIGTERM');
      const code = await exited;
      expect(code, stderr).to.equal(0);
      const summary = JSON.parse(stdout.trim().split('\n').at(-1)!) as { reason: string; drained: boolean };
      expect(summary).to.include({ reason: 'stopped', drained: true });
      const ends = await endOffsets(brokers, input);
      const commits = await committedOffsets(brokers, group, input, 4);
      // Every partition committed up to its end (one that never had a record has nothing to commit).
      for (const end of ends) {
        const offset = commits.find((c) => c.partition === end.partition)!.offset;
        expect(end.offset === 0 ? Math.max(0, offset) : offset, `partition ${end.partition}`).to.equal(end.offset);
      }
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    }
  });
});
