/**
 * Writes docs/api.md, the reference of the package's public API, from the entry points of the
 * `exports` map with the TypeScript compiler's checker (what a project that depends on signalpath can
 * import, with each export's signature and the first paragraph of its doc comment). A test fails when
 * the committed file differs, so a change of the public API shows in review (docs/versioning.md says
 * which changes are breaking).
 *
 *   npm run docs:api                      # regenerate
 *   npx tsx scripts/api-docs.ts --check   # exit 1 if docs/api.md is stale
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const API_DOC = path.join(ROOT, 'docs', 'api.md');

/** The `exports` map's entries that are an API (not the container's command or package.json), with their source. */
export function apiEntryPoints(): { specifier: string; source: string }[] {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string | { types: string }> };
  return Object.entries(pkg.exports)
    .filter((entry): entry is [string, { types: string }] => typeof entry[1] === 'object')
    .map(([subpath, target]) => ({
      specifier: subpath === '.' ? 'signalpath' : `signalpath/${subpath.slice(2)}`,
      source: path.join(ROOT, target.types.replace(/^\.\/dist\//, '').replace(/\.d\.ts$/, '.ts')),
    }));
}

const FORMAT = ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.UseSingleQuotesForStringLiteralType;

/** Type text without the compiler's `import("/abs/path").` qualifiers (machine-specific, and noise). */
const clean = (text: string): string => text.replace(/import\("[^"]*"\)\./g, '');

function summary(symbol: ts.Symbol, checker: ts.TypeChecker): string {
  const text = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
  const paragraph = text.split(/\n\s*\n/)[0] ?? '';
  return paragraph.replace(/```[\s\S]*$/, '').replace(/\s+/g, ' ').trim();
}

function kindOf(symbol: ts.Symbol): string {
  const flags = symbol.flags;
  if (flags & ts.SymbolFlags.Class) return 'class';
  if (flags & ts.SymbolFlags.Function) return 'function';
  if (flags & ts.SymbolFlags.Interface) return 'interface';
  if (flags & ts.SymbolFlags.TypeAlias) return 'type';
  if (flags & ts.SymbolFlags.Enum) return 'enum';
  if (flags & ts.SymbolFlags.Variable) return 'const';
  return 'export';
}

/** The lines of code that show an export: signatures, members, or its type. */
function shape(symbol: ts.Symbol, checker: ts.TypeChecker, where: ts.Node): string[] {
  const kind = kindOf(symbol);
  if (kind === 'function') {
    const type = checker.getTypeOfSymbolAtLocation(symbol, where);
    return type.getCallSignatures().map((signature) => clean(`function ${symbol.name}${checker.signatureToString(signature, where, FORMAT)}`));
  }
  if (kind === 'class') {
    const lines = [`class ${symbol.name}`];
    const classType = checker.getTypeOfSymbolAtLocation(symbol, where);
    for (const signature of classType.getConstructSignatures()) lines.push(clean(`  constructor${checker.signatureToString(signature, where, FORMAT)}`));
    const instance = checker.getDeclaredTypeOfSymbol(symbol);
    for (const member of checker.getPropertiesOfType(instance)) {
      const declaration = member.valueDeclaration ?? member.declarations?.[0];
      if (declaration === undefined || member.name.startsWith('#') || member.name.startsWith('__')) continue;
      const modifiers = ts.getCombinedModifierFlags(declaration as ts.Declaration);
      if (modifiers & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
      const memberType = checker.getTypeOfSymbolAtLocation(member, where);
      const calls = member.flags & ts.SymbolFlags.Method ? memberType.getCallSignatures() : [];
      if (calls.length > 0) for (const signature of calls) lines.push(clean(`  ${member.name}${checker.signatureToString(signature, where, FORMAT)}`));
      else lines.push(clean(`  ${modifiers & ts.ModifierFlags.Readonly ? 'readonly ' : ''}${member.name}: ${checker.typeToString(memberType, where, FORMAT)}`));
    }
    return lines;
  }
  if (kind === 'interface') {
    const type = checker.getDeclaredTypeOfSymbol(symbol);
    const lines = [`interface ${symbol.name}`];
    for (const member of checker.getPropertiesOfType(type)) {
      if (member.name.startsWith('__')) continue;
      const optional = member.flags & ts.SymbolFlags.Optional ? '?' : '';
      lines.push(clean(`  ${member.name}${optional}: ${checker.typeToString(checker.getTypeOfSymbolAtLocation(member, where), where, FORMAT)}`));
    }
    return lines;
  }
  if (kind === 'type') {
    const declaration = symbol.declarations?.find(ts.isTypeAliasDeclaration);
    const text = declaration === undefined ? checker.typeToString(checker.getDeclaredTypeOfSymbol(symbol), where, FORMAT) : declaration.type.getText();
    return [clean(`type ${symbol.name} = ${text.replace(/\s+/g, ' ')}`)];
  }
  return [clean(`const ${symbol.name}: ${checker.typeToString(checker.getTypeOfSymbolAtLocation(symbol, where), where, FORMAT)}`)];
}

export function renderApiDoc(): string {
  const entries = apiEntryPoints();
  const parsed = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.build.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (parsed === undefined) throw new Error('cannot read tsconfig.build.json');
  const program = ts.createProgram({ rootNames: entries.map((e) => e.source), options: { ...parsed.options, noEmit: true } });
  const checker = program.getTypeChecker();
  const lines = [
    '# API reference',
    '',
    '<!-- Generated by `npm run docs:api` (scripts/api-docs.ts) from the package\'s entry points with the',
    '     TypeScript checker; do not edit by hand. A test fails when this file is stale. -->',
    '',
    'What a project that depends on signalpath imports: the entry points of its `exports` map, each',
    'export with its signature and the first paragraph of its doc comment (the full comment, with',
    'examples, is in the `.d.ts` your editor shows). Anything else is internal. What counts as a',
    'breaking change of this surface: [versioning.md](versioning.md).',
    '',
    '| import | exports |',
    '|---|---|',
  ];
  const sections: string[] = [];
  for (const entry of entries) {
    const source = program.getSourceFile(entry.source);
    if (source === undefined) throw new Error(`${entry.source} is not in the program`);
    const moduleSymbol = checker.getSymbolAtLocation(source);
    if (moduleSymbol === undefined) throw new Error(`${entry.source} has no exports`);
    const exported = checker.getExportsOfModule(moduleSymbol).sort((a, b) => a.name.localeCompare(b.name, 'en'));
    lines.push(`| [\`${entry.specifier}\`](#${entry.specifier.replace(/[^a-z0-9]+/g, '')}) | ${exported.length} |`);
    sections.push('', `## ${entry.specifier}`, '', '```ts', `import { … } from '${entry.specifier}';`, '```');
    for (const alias of exported) {
      const symbol = alias.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(alias) : alias;
      const text = summary(symbol, checker);
      sections.push('', `### ${alias.name}`, '', `${kindOf(symbol)}${text === '' ? '' : ` — ${text}`}`, '', '```ts', ...shape(symbol, checker, source), '```');
    }
  }
  return `${[...lines, ...sections].join('\n')}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const text = renderApiDoc();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(API_DOC, 'utf8');
    } catch {
      // missing counts as stale
    }
    if (current !== text) {
      console.error(`${path.relative(process.cwd(), API_DOC)} is stale: run npm run docs:api`);
      process.exit(1);
    }
  } else {
    writeFileSync(API_DOC, text);
    console.error(`wrote ${path.relative(process.cwd(), API_DOC)}`);
  }
}
