/**
 * The authoring commands, in the package's command line and in this repository's: `init` (a new
 * project that depends on signalpath), `new` (a topology in the current project), `build` (its image
 * context, manifests and compose service) and `schemas` (check and type the project's contracts).
 * A topology's image leaves them out (container-main.ts).
 */
import type { Command } from 'commander';
import { buildCommand } from './build-command.js';
import { initCommand } from './init-command.js';
import { newCommand } from './new-command.js';
import { schemasCommand } from './schemas-command.js';

export function registerAuthoringCommands(program: Command): void {
  program
    .command('init')
    .description('Create a project that depends on signalpath: package.json, tsconfig, one topology with its test and sample input, schemas/ for your own contracts, a compose file (Redpanda) and a README.')
    .argument('<dir>', 'folder to create (must be new or empty)')
    .option('--from <version|path>', 'the signalpath dependency: a version range, or a path to a package tarball or folder (written as file:<path>); default: this signalpath\'s version')
    .option('--topology <name>', 'name of the first topology', 'slow-inferences')
    .action(initCommand);

  program
    .command('new')
    .description('Scaffold a topology under topologies/<name>/ of the current project: the module, a test with the topology test driver, a sample input and its deploy settings.')
    .argument('<name>', 'topic-safe name: lower-case letters, digits and "-", starting with a letter')
    .action(newCommand);

  program
    .command('build')
    .description('Build dist/<topology>/: compiled JavaScript, schemas, a production package.json and lockfile, a Dockerfile, k8s/ manifests and a compose service.')
    .argument('<topology>', 'a topology name (a folder under the project\'s topologies/)')
    .option('--out <dir>', 'where to write the build context (default: dist/<topology>)')
    .option('--no-compose', 'do not add the topology\'s service to compose.yaml')
    .action(buildCommand);

  program
    .command('schemas')
    .description('The project\'s own contracts (schemas/<name>/v<N>.avsc): `check` fails when the newest version of a contract cannot read data an older one wrote; `types` writes schemas/types.generated.ts.')
    .argument('<action>', 'check or types')
    .action(schemasCommand);
}
