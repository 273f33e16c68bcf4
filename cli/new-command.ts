/** `signalpath new <name>`: scaffold <topologies>/<name>/ in the current project and say what to do next. */
import path from 'node:path';
import { findProject } from '../runtime/project.js';
import { scaffoldTopology } from '../runtime/packaging/scaffold.js';

export function newCommand(name: string): void {
  const project = findProject();
  const files = scaffoldTopology(name, project.topologiesDir, project.isFramework ? 'framework' : 'project');
  const relative = (file: string): string => path.relative(process.cwd(), file) || '.';
  console.log(`created topology ${name}:`);
  for (const file of files) console.log(`  ${relative(file)}`);
  const dir = relative(path.join(project.topologiesDir, name));
  const test = project.isFramework ? `npx mocha ${dir}/${name}.spec.ts` : `node --test ${dir}/${name}.spec.ts`;
  console.log(`next:
  ${test}
      test it with the topology test driver (no broker)
  npx signalpath produce inference-events --contract inference-event --file ${dir}/sample-input.jsonl
  npx signalpath run ${name}
      run it against KAFKA_BROKERS${project.isFramework ? ' (or a local broker when unset)' : ''}
  npx signalpath build ${name}
      dist/${name}/: Dockerfile, k8s/ manifests, compose service`);
}
