/**
 * The pieces of `signalpath build` and `signalpath new` that need no broker: the Dockerfile's
 * structure, the Kubernetes manifests' fields, compose.yaml, deploy.yaml validation, name checks and
 * the import scan that decides the production dependencies, and what the compiled image holds.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { parse, parseAllDocuments } from 'yaml';
import { renderDockerfile, BUILD_PACKAGES } from '../../runtime/packaging/dockerfile.js';
import { buildManifests, GRACE_BEYOND_DRAIN_S, renderManifests } from '../../runtime/packaging/k8s-manifests.js';
import { DeploySettingsSchema, readDeploySettings } from '../../runtime/packaging/deploy-settings.js';
import { addComposeService, composeService } from '../../runtime/packaging/compose-service.js';
import { scaffoldTopology, topologyNameProblem } from '../../runtime/packaging/scaffold.js';
import ts from 'typescript';
import { containerEntry, importedPackages } from '../../runtime/packaging/compile.js';
import { PROJECT_ROOT } from '../support/kafka-fixtures.js';
import { execForm, readDockerfile, stageEnv } from './dockerfile-reader.js';

describe('packaging: build context pieces', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'signalpath-pack-'));
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  describe('Dockerfile', () => {
    const stages = readDockerfile(renderDockerfile({ topologyName: 'demo', metricsPort: 9464 }));

    it('has a node:24 build stage that builds the Kafka client from source against Debian -dev packages', () => {
      expect(stages).to.have.length(2);
      const build = stages[0]!;
      expect(build.from).to.match(/^node:24(-|$)/);
      const runs = build.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args).join('\n');
      for (const pkg of BUILD_PACKAGES) expect(runs).to.include(pkg);
      expect(stageEnv(build)).to.include({ CKJS_LINKING: 'dynamic' });
      expect(runs).to.match(/npm ci --omit=dev/);
      expect(runs).to.not.match(/--ignore-scripts/);
    });

    it('has a slim runtime stage: runtime libraries, non-root user, tini, HEALTHCHECK on /healthz, ENTRYPOINT signalpath run <topology>', () => {
      const runtime = stages[1]!;
      expect(runtime.from).to.match(/^node:24-.*slim$/);
      const runs = runtime.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args).join('\n');
      for (const lib of ['libssl3', 'libsasl2-2', 'libzstd1', 'liblz4-1', 'libcurl4', 'zlib1g', 'tini']) expect(runs).to.include(lib);
      expect(runs).to.not.match(/-dev\b/);
      const copies = runtime.instructions.filter((i) => i.keyword === 'COPY').map((i) => i.args);
      expect(copies).to.deep.equal(['--from=build /app /app']);
      const user = runtime.instructions.filter((i) => i.keyword === 'USER').at(-1);
      expect(user?.args).to.be.oneOf(['node', '1000']);
      const userIndex = runtime.instructions.indexOf(user!);
      expect(runtime.instructions.findIndex((i, index) => index > userIndex && i.keyword === 'RUN')).to.equal(-1);
      const health = runtime.instructions.find((i) => i.keyword === 'HEALTHCHECK');
      expect(health?.args).to.match(/CMD \["node"/).and.to.include('/healthz').and.to.include('SIGNALPATH_METRICS_PORT');
      const entrypoint = execForm(runtime, 'ENTRYPOINT');
      expect(entrypoint.slice(0, 2)).to.deep.equal(['/usr/bin/tini', '--']);
      expect(entrypoint.slice(2)).to.deep.equal(['signalpath', 'run', 'demo']);
      expect(stageEnv(runtime)).to.include({ SIGNALPATH_METRICS_PORT: '9464' });
    });
  });

  describe('Kubernetes manifests', () => {
    const deploy = DeploySettingsSchema.parse({ minReplicas: 2, lagThreshold: 500, env: { MODEL_REGISTRY_URL: 'http://model-registry:8080' } });
    const files = buildManifests({ topologyName: 'demo', image: 'signalpath-demo:1', group: 'signalpath.demo', inputTopic: 'inference-events', inputPartitions: 6, drainTimeoutMs: 30_000, metricsPort: 9464, deploy });
    // Parsed back from the YAML text, as kubectl would read it.
    const docs = Object.fromEntries(Object.entries(files).map(([file, documents]) => [file, parseAllDocuments(renderManifests(documents)).map((d) => d.toJS() as Record<string, any>)])); // eslint-disable-line @typescript-eslint/no-explicit-any
    const byKind = (kind: string) => Object.values(docs).flat().find((d) => d.kind === kind)!;

    it('Deployment: requests and limits, probes on /healthz and /readyz at the metrics port, grace beyond the drain, config and secrets from envFrom', () => {
      const deployment = byKind('Deployment');
      expect(deployment.apiVersion).to.equal('apps/v1');
      const pod = deployment.spec.template.spec;
      expect(pod.terminationGracePeriodSeconds).to.equal(30 + GRACE_BEYOND_DRAIN_S).and.to.be.greaterThan(30);
      const container = pod.containers[0];
      expect(container.image).to.equal('signalpath-demo:1');
      expect(container.resources).to.deep.equal({ requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '1', memory: '1Gi' } });
      expect(container.ports).to.deep.equal([{ name: 'metrics', containerPort: 9464 }]);
      expect(container.livenessProbe.httpGet).to.deep.equal({ path: '/healthz', port: 'metrics' });
      expect(container.readinessProbe.httpGet).to.deep.equal({ path: '/readyz', port: 'metrics' });
      expect(container.envFrom).to.deep.equal([{ configMapRef: { name: byKind('ConfigMap').metadata.name } }, { secretRef: { name: byKind('Secret').metadata.name } }]);
      expect(pod.securityContext.runAsNonRoot).to.equal(true);
      expect(deployment.spec.selector.matchLabels).to.deep.equal(byKind('PodDisruptionBudget').spec.selector.matchLabels);
    });

    it('ConfigMap carries the settings and deploy.yaml env; the Secret carries the SASL credentials', () => {
      expect(byKind('ConfigMap').data).to.include({ SIGNALPATH_GROUP: 'signalpath.demo', SIGNALPATH_METRICS_PORT: '9464', SIGNALPATH_DRAIN_TIMEOUT_MS: '30000', MODEL_REGISTRY_URL: 'http://model-registry:8080' });
      expect(byKind('ConfigMap').data).to.have.property('KAFKA_BROKERS');
      expect(Object.keys(byKind('Secret').stringData)).to.include.members(['SIGNALPATH_KAFKA_SASL_USERNAME', 'SIGNALPATH_KAFKA_SASL_PASSWORD']);
      expect(JSON.stringify(byKind('ConfigMap'))).to.not.include('PASSWORD');
    });

    it('KEDA ScaledObject scales on the group\'s lag of the input topic, capped at its partition count', () => {
      const scaled = byKind('ScaledObject');
      expect(scaled.apiVersion).to.equal('keda.sh/v1alpha1');
      expect(scaled.spec.scaleTargetRef.name).to.equal(byKind('Deployment').metadata.name);
      expect(scaled.spec.maxReplicaCount).to.equal(6);
      expect(scaled.spec.minReplicaCount).to.equal(2);
      const [trigger] = scaled.spec.triggers;
      expect(trigger.type).to.equal('kafka');
      expect(trigger.metadata).to.include({ consumerGroup: 'signalpath.demo', topic: 'inference-events', lagThreshold: '500', bootstrapServersFromEnv: 'KAFKA_BROKERS' });
      expect(trigger.authenticationRef.name).to.equal(byKind('TriggerAuthentication').metadata.name);
      const secretName = byKind('Secret').metadata.name;
      for (const ref of byKind('TriggerAuthentication').spec.secretTargetRef) {
        expect(ref.name).to.equal(secretName);
        expect(byKind('Secret').stringData).to.have.property(ref.key);
      }
      expect(byKind('PodDisruptionBudget').spec.maxUnavailable).to.equal(1);
    });

    it('never scales past the partitions, whatever the deploy settings', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 512 }), fc.integer({ min: 0, max: 1000 }), (partitions, minReplicas) => {
          const manifests = buildManifests({ topologyName: 't', image: 'i', group: 'g', inputTopic: 'in', inputPartitions: partitions, drainTimeoutMs: 1000, metricsPort: 1, deploy: DeploySettingsSchema.parse({ minReplicas }) });
          const spec = (manifests['keda.yaml']!.find((m) => m.kind === 'ScaledObject') as { spec: { minReplicaCount: number; maxReplicaCount: number } }).spec;
          return spec.maxReplicaCount === partitions && spec.minReplicaCount <= spec.maxReplicaCount;
        }),
      );
    });
  });

  describe('deploy.yaml', () => {
    it('fails with the field\'s path and what is accepted', () => {
      writeFileSync(path.join(tmp, 'deploy.yaml'), 'resources:\n  requests: { cpu: lots, memory: 1Gi }\n  limits: { cpu: "1", memory: 1Gi }\nminReplicas: -1\n');
      expect(() => readDeploySettings(tmp)).to.throw(/resources\.requests\.cpu: expected a Kubernetes quantity.*minReplicas/);
    });

    it('gives the defaults when there is none', () => {
      expect(readDeploySettings(tmp)).to.deep.include({ minReplicas: 1, lagThreshold: 1000, env: {} });
    });
  });

  describe('compose.yaml', () => {
    it('parses, and runs the broker, the console, the model registry and model-monitor', () => {
      const compose = parse(readFileSync(path.join(PROJECT_ROOT, 'compose.yaml'), 'utf8')) as { services: Record<string, Record<string, any>> }; // eslint-disable-line @typescript-eslint/no-explicit-any
      expect(compose.services).to.include.keys('redpanda', 'console', 'model-registry', 'model-monitor');
      expect(compose.services['model-monitor']!.build.context).to.equal('./dist/model-monitor');
      expect(compose.services['model-monitor']!.environment).to.include({ KAFKA_BROKERS: 'redpanda:9092', MODEL_REGISTRY_URL: 'http://model-registry:8080' });
      expect(compose.services['model-registry']!.entrypoint.join(' ')).to.include("host: '0.0.0.0', port: 8080");
    });

    it('a build adds or replaces its service, keeps the comments, and refuses to overwrite another service', () => {
      const file = path.join(tmp, 'compose.yaml');
      cpSync(path.join(PROJECT_ROOT, 'compose.yaml'), file);
      const service = composeService({ topologyName: 'demo', context: './dist/demo', env: { A: '1' } });
      addComposeService(file, 'demo', service);
      addComposeService(file, 'demo', { ...service, environment: { B: '2' } });
      const text = readFileSync(file, 'utf8');
      expect(text).to.include('# Console: http://localhost:8080');
      const compose = parse(text) as { services: Record<string, { environment: Record<string, string> }> };
      expect(compose.services.demo!.environment).to.deep.equal({ B: '2' });
      expect(() => addComposeService(file, 'redpanda', composeService({ topologyName: 'redpanda', context: '.', env: {} }))).to.throw(/already has a service "redpanda"/);
    });
  });

  describe('signalpath new', () => {
    it('accepts only names that make legal topic and group names', () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 70 }), (name) => {
          if (topologyNameProblem(name) !== null) return true;
          return [`${name}.dlq`, `${name}.mentions`, `signalpath.${name}`].every((topic) => /^[a-zA-Z0-9._-]{1,249}$/.test(topic));
        }),
      );
      for (const bad of ['Demo', '9lives', 'my_topology', 'a.b', '', 'x'.repeat(64)]) expect(topologyNameProblem(bad), bad).to.match(/not a valid topology name/);
    });

    it('scaffolds the module, its test, a sample input and deploy.yaml, and refuses a taken name', () => {
      const files = scaffoldTopology('demo', tmp).map((f) => path.relative(tmp, f));
      expect(files).to.deep.equal(['demo/index.ts', 'demo/demo.spec.ts', 'demo/sample-input.jsonl', 'demo/deploy.yaml']);
      const index = readFileSync(path.join(tmp, 'demo', 'index.ts'), 'utf8');
      expect(index).to.include("name: 'demo'").and.to.include("deadLetterTopic: 'demo.dlq'").and.to.not.include('__NAME__');
      expect(readDeploySettings(path.join(tmp, 'demo'))).to.deep.include({ minReplicas: 1 });
      expect(() => scaffoldTopology('demo', tmp)).to.throw(/already exists/);
      expect(() => scaffoldTopology('Bad_Name', tmp)).to.throw(/not a valid topology name/);
      expect(existsSync(path.join(tmp, 'Bad_Name'))).to.equal(false);
    });

    it('scaffolds code that passes the project\'s lint rules', async function () {
      this.timeout(60_000);
      scaffoldTopology('demo', tmp);
      // The files are linted as text under their future path, which the TypeScript project does not
      // hold yet: every rule but the type-aware ones (the layer rules included).
      const eslint = new ESLint({ cwd: PROJECT_ROOT, overrideConfig: [{ files: ['topologies/demo/**'], ...tseslint.configs.disableTypeChecked }] });
      for (const file of ['index.ts', 'demo.spec.ts']) {
        const [result] = await eslint.lintText(readFileSync(path.join(tmp, 'demo', file), 'utf8'), { filePath: path.join(PROJECT_ROOT, 'topologies', 'demo', file) });
        expect(result!.messages.map((m) => `${file}:${m.line} ${m.message}`)).to.deep.equal([]);
      }
    });
  });

  describe('production dependencies', () => {
    it('are the packages the compiled code imports: static, dynamic, require; no builtins, no relative paths', () => {
      const file = path.join(tmp, 'a.js');
      writeFileSync(file, [
        "import { map } from 'rxjs';",
        "import {",
        "  trace,",
        "} from '@opentelemetry/api';",
        "import './local.js';",
        "import fs from 'node:fs';",
        "import path from 'path';",
        "export { z } from 'zod';",
        "const client = require('@confluentinc/kafka-javascript');",
        "const later = await import('avsc');",
        "const message = 'read from \\'elsewhere\\'';",
      ].join('\n'));
      expect([...importedPackages([file])].sort()).to.deep.equal(['@confluentinc/kafka-javascript', '@opentelemetry/api', 'avsc', 'rxjs', 'zod']);
    });
  });

  describe('what the image holds', () => {
    /** Project files reachable by relative imports (static and dynamic, as tsc follows them) from `roots`, relative to the project. */
    function importClosure(roots: readonly string[]): Set<string> {
      const seen = new Set<string>();
      const queue = [...roots];
      while (queue.length > 0) {
        const file = queue.pop()!;
        const relative = path.relative(PROJECT_ROOT, file).split(path.sep).join('/');
        if (seen.has(relative)) continue;
        seen.add(relative);
        for (const imported of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
          if (!imported.fileName.startsWith('.')) continue;
          const target = path.resolve(path.dirname(file), imported.fileName.replace(/\.js$/, '.ts'));
          if (existsSync(target) && target.endsWith('.ts')) queue.push(target);
        }
      }
      return seen;
    }

    it('compiles the container entry, which reaches core/ and the runtime but never the lab, the development commands or the packaging tools', () => {
      expect(path.relative(PROJECT_ROOT, containerEntry(PROJECT_ROOT))).to.equal(path.join('cli', 'container-main.ts'));
      for (const topology of ['model-monitor', 'passthrough', 'latency-watch']) {
        const files = [...importClosure([containerEntry(PROJECT_ROOT), path.join(PROJECT_ROOT, 'topologies', topology, 'index.ts')])];
        expect(files, topology).to.include.members(['cli/program.ts', 'core/envelope.ts', 'core/settlement.ts', 'runtime/runner.ts']);
        const outOfImage = files.filter((f) => f.startsWith('lab/') || f.startsWith('scripts/') || f.startsWith('runtime/packaging/') || ['cli/main.ts', 'cli/dev-commands.ts'].includes(f));
        expect(outOfImage, topology).to.deep.equal([]);
      }
    });
  });
});
