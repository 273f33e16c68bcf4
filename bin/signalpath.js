#!/usr/bin/env node
// The `signalpath` command. Installed from the package (no TypeScript sources beside this file), it
// runs the compiled JavaScript in dist/: no TypeScript loader. In a clone of the repository it runs
// the sources through tsx (resolved from this file's own node_modules, so it works from any working
// directory), with the lab's commands and the local broker; a stale dist/ there is never used.
import { existsSync } from 'node:fs';
import { URL } from 'node:url';

const sources = new URL('../cli/main.ts', import.meta.url);
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(sources.href);
} else {
  await import('../dist/cli/package-main.js');
}
