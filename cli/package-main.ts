/**
 * The `signalpath` command of the installed package (bin/signalpath.js runs the compiled form from
 * dist/ when the package has no TypeScript sources): the shipped commands (run, produce, tail,
 * hotspots) and the authoring commands (init, new, build, schemas). The lab's commands and the local
 * broker live in this repository only (main.ts): they need the lab and the Kafka jars of a clone.
 */
import { registerAuthoringCommands } from './authoring-commands.js';
import { createProgram, runProgram } from './program.js';

await runProgram(createProgram(registerAuthoringCommands));
