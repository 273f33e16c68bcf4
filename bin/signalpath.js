#!/usr/bin/env node
// The `signalpath` command. The project is TypeScript run through tsx, resolved from this file's own
// node_modules so the command works from any working directory.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
