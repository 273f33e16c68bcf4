/** `signalpath new <name>`: scaffold topologies/<name>/ and say what to do next. */
import path from 'node:path';
import { TOPOLOGIES_DIR } from '../runtime/topology-loader.js';
import { scaffoldTopology } from '../runtime/packaging/scaffold.js';

export function newCommand(name: string): void {
  const files = scaffoldTopology(name, TOPOLOGIES_DIR);
  const relative = (file: string): string => path.relative(process.cwd(), file);
  console.log(`created topology ${name}:`);
  for (const file of files) console.log(`  ${relative(file)}`);
  const dir = relative(path.join(TOPOLOGIES_DIR, name));
  console.log(`next:
  npx mocha ${dir}/${name}.spec.ts
      test it with the topology test driver (no broker)
  npx signalpath produce inference-events --contract inference-event --file ${dir}/sample-input.jsonl
  npx signalpath run ${name}
      run it against KAFKA_BROKERS (or a local broker when unset)
  npx signalpath build ${name}
      dist/${name}/: Dockerfile, k8s/ manifests, compose service`);
}
