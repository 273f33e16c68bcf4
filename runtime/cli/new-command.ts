/** `signalpath new <name>`: scaffold topologies/<name>/ and say what to do next. */
import path from 'node:path';
import { TOPOLOGIES_DIR } from '../topology-loader.js';
import { scaffoldTopology } from '../packaging/scaffold.js';

export function newCommand(name: string): void {
  const files = scaffoldTopology(name, TOPOLOGIES_DIR);
  const relative = (file: string): string => path.relative(process.cwd(), file);
  console.log(`created topology ${name}:`);
  for (const file of files) console.log(`  ${relative(file)}`);
  console.log(`next:
  npx mocha ${relative(path.join(TOPOLOGIES_DIR, name, `${name}.spec.ts`))}                      # test it with the topology test driver
  npx signalpath produce inference-events --contract inference-event --file ${relative(path.join(TOPOLOGIES_DIR, name, 'sample-input.jsonl'))}
  npx signalpath run ${name}                                                       # against KAFKA_BROKERS, or a local broker
  npx signalpath build ${name}                                                     # dist/${name}/: Dockerfile, k8s/, compose service`);
}
