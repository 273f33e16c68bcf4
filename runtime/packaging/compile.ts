/**
 * Compiles the container's CLI entry (cli/container-main.ts: run, produce, tail, hotspots) and one
 * topology with the TypeScript compiler into a build folder. tsc follows the imports, so only the
 * core, operators, runtime and schema pieces that the topology and those commands import are
 * emitted; the development commands, the lab and the packaging tools are never imported from there
 * and stay out. The schemas' .avsc files, read at run time, are copied beside the compiled code.
 */
import { cpSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import ts from 'typescript';

export interface CompileResult {
  /** Emitted .js files, absolute. */
  readonly files: readonly string[];
}

/** The CLI entry a topology's image runs (and the root `compileTopology` compiles beside the topology). */
export function containerEntry(projectRoot: string): string {
  return path.join(projectRoot, 'cli', 'container-main.ts');
}

export function compileTopology(projectRoot: string, topologyEntry: string, outDir: string): CompileResult {
  const configFile = path.join(projectRoot, 'tsconfig.json');
  const parsed = ts.getParsedCommandLineOfConfigFile(
    configFile,
    // Emit plain ES modules for Node 24: no declarations, no source maps, test types not needed.
    { outDir, rootDir: projectRoot, noEmit: false, declaration: false, sourceMap: false, types: ['node'], incremental: false },
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); } },
  );
  if (parsed === undefined) throw new Error(`cannot read ${configFile}`);
  const roots = [containerEntry(projectRoot), topologyEntry];
  const program = ts.createProgram({ rootNames: roots, options: parsed.options });
  const host: ts.FormatDiagnosticsHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => projectRoot, getNewLine: () => '\n' };
  // Type errors stop the build before any JavaScript is emitted.
  const diagnostics = ts.getPreEmitDiagnostics(program);
  if (diagnostics.length > 0) throw new Error(`the topology does not compile:\n${ts.formatDiagnostics(diagnostics, host)}`);
  const files: string[] = [];
  const emitted = program.emit(undefined, (fileName, text) => {
    ts.sys.writeFile(fileName, text);
    if (fileName.endsWith('.js')) files.push(fileName);
  });
  if (emitted.diagnostics.length > 0) throw new Error(`emitting the topology failed:\n${ts.formatDiagnostics(emitted.diagnostics, host)}`);
  copySchemaFiles(path.join(projectRoot, 'schemas'), path.join(outDir, 'schemas'));
  return { files };
}

/** Copies every .avsc under `from` (the contracts are read from disk when the serde starts). */
function copySchemaFiles(from: string, to: string): void {
  for (const entry of readdirSync(from)) {
    const source = path.join(from, entry);
    if (statSync(source).isDirectory()) copySchemaFiles(source, path.join(to, entry));
    else if (entry.endsWith('.avsc')) cpSync(source, path.join(to, entry));
  }
}

const BUILTINS = new Set(builtinModules);
// In tsc's ES module output: a statement line ending in `from 'x';` (the last line of a multi-line
// import too), a bare `import 'x';`, and `import('x')` / `require('x')` anywhere.
const STATIC_IMPORT = /^\s*(?:(?:import|export|\})[^'"\n]*\bfrom\s*|import\s*)(['"])([^'"\n]+)\1\s*;?\s*$/gm;
const CALL_IMPORT = /\b(?:import|require)\s*\(\s*(['"])([^'"\n]+)\1\s*\)/g;
const PACKAGE_NAME = /^(?:@[a-z0-9][\w.~-]*\/)?[a-z0-9][\w.~-]*$/;

/** npm package names imported (statically, dynamically or with require) by `files`; builtins left out. */
export function importedPackages(files: readonly string[]): Set<string> {
  const packages = new Set<string>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const match of [...text.matchAll(STATIC_IMPORT), ...text.matchAll(CALL_IMPORT)]) {
      const specifier = match[2]!;
      if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) continue;
      const parts = specifier.split('/');
      const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
      if (BUILTINS.has(name)) continue;
      if (!PACKAGE_NAME.test(name)) throw new Error(`${file}: cannot tell which package ${JSON.stringify(specifier)} is`);
      packages.add(name);
    }
  }
  return packages;
}
