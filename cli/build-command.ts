/**
 * `signalpath build <topology>`: write dist/<topology>/ and say how to use it. The build compiles with
 * the TypeScript compiler, a development dependency: it is loaded here, when `build` runs, so that
 * every other command of the `signalpath` bin starts without it.
 */
import path from 'node:path';
import { ConfigError } from '../runtime/config.js';

export async function buildCommand(topologyName: string, flags: { out?: string; compose: boolean }): Promise<void> {
  let packaging: typeof import('../runtime/packaging/build.js');
  try {
    packaging = await import('../runtime/packaging/build.js');
  } catch (error) {
    // A project that depends on the package brings its own compiler (signalpath init adds it).
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && /'typescript'/.test((error as Error).message)) {
      throw new ConfigError('signalpath build compiles the topology with TypeScript: npm install --save-dev typescript');
    }
    throw error;
  }
  const { buildTopology } = packaging;
  const result = await buildTopology({ topologyName, outDir: flags.out, compose: flags.compose });
  const out = path.relative(process.cwd(), result.outDir) || '.';
  console.log(`built ${topologyName} → ${out}/ (${result.files} compiled files)`);
  console.log(`  production dependencies: ${Object.keys(result.dependencies).join(', ')}`);
  for (const dependency of result.localDependencies) {
    console.log(`  warning: ${dependency} is ${result.dependencies[dependency]}, a path the image's npm ci cannot reach: depend on a published version (or a registry your build can reach) before docker build`);
  }
  console.log(`  input ${result.inputTopic}: ${result.inputPartitions} partitions = KEDA's maxReplicaCount`);
  console.log(`next:
  docker build -t signalpath-${topologyName} ${out}
  docker compose up -d ${flags.compose ? topologyName : '(add ' + out + '/compose.service.yaml to compose.yaml)'}
  kubectl apply -f ${out}/k8s/       # edit k8s/configmap.yaml (KAFKA_BROKERS) and k8s/secret.yaml first`);
}
