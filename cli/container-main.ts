/**
 * The `signalpath` command inside a topology's image (`signalpath build` compiles this file and what
 * it imports): only the shipped commands of program.ts (run, produce, tail, hotspots), so the image
 * carries neither the lab nor the packaging tools.
 */
import { createProgram, runProgram } from './program.js';

await runProgram(createProgram());
