/**
 * The `signalpath` command line (bin/signalpath.js launches it): the shipped commands of program.ts
 * plus the development commands (demo, lab, nab, generate, evaluate, broker, new, build).
 */
import { registerDevCommands } from './dev-commands.js';
import { createProgram, runProgram } from './program.js';

await runProgram(createProgram(registerDevCommands));
