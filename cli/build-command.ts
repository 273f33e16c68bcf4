/**
 * `signalpath build <topology>`: write dist/<topology>/ and say how to use it. The build compiles with
 * the TypeScript compiler, a development dependency: it is loaded here, when `build` runs, so that
 * every other command of the `signalpath` bin starts without it.
 */
import path from 'node:path';

export async function buildCommand(topologyName: string, flags: { out?: string; compose: boolean }): Promise<void> {
  const { buildTopology } = await import('../runtime/packaging/build.js');
  const result = await buildTopology({ topologyName, outDir: flags.out, compose: flags.compose });
  const out = path.relative(process.cwd(), result.outDir) || '.';
  console.log(`built ${topologyName} → ${out}/ (${result.files} compiled files)`);
  console.log(`  production dependencies: ${Object.keys(result.dependencies).join(', ')}`);
  console.log(`  input ${result.inputTopic}: ${result.inputPartitions} partitions = KEDA's maxReplicaCount`);
  console.log(`next:
  docker build -t signalpath-${topologyName} ${out}
  docker compose up -d ${flags.compose ? topologyName : '(add ' + out + '/compose.service.yaml to compose.yaml)'}
  kubectl apply -f ${out}/k8s/       # edit k8s/configmap.yaml (KAFKA_BROKERS) and k8s/secret.yaml first`);
}
