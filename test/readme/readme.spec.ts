/**
 * README.md stays a true front door: short; its code examples are verbatim regions of files the test
 * suite compiles and runs; its operators table has a row per operator whose options are exactly the
 * fields of the operator's options interface; every `signalpath <command> --flag` it or docs/ shows
 * is a command and an option of the program; its links point at files that exist.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import ts from 'typescript';
import { fullProgram } from '../../scripts/cli-docs.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** The lines between `// #region <name>` and `// #endregion <name>`, with their common indentation removed. */
function region(file: string, name: string): string {
  const lines = readFileSync(path.join(ROOT, file), 'utf8').split('\n');
  const start = lines.findIndex((line) => line.trim() === `// #region ${name}`);
  const end = lines.findIndex((line) => line.trim() === `// #endregion ${name}`);
  expect(start, `${file}: no region ${name}`).to.be.greaterThan(-1);
  expect(end, `${file}: region ${name} not closed`).to.be.greaterThan(start);
  const body = lines.slice(start + 1, end);
  const indent = Math.min(...body.filter((line) => line.trim() !== '').map((line) => line.length - line.trimStart().length));
  return body.map((line) => line.slice(indent)).join('\n');
}

const pascal = (kebab: string): string => kebab.split('-').map((word) => word[0]!.toUpperCase() + word.slice(1)).join('');
const camel = (kebab: string): string => pascal(kebab)[0]!.toLowerCase() + pascal(kebab).slice(1);

/** Option interfaces shared by operators (operators/pressure-valve.ts: PressureOptions), by name, with their fields. */
function sharedOptionInterfaces(): Map<string, string[]> {
  const shared = new Map<string, string[]>();
  for (const file of ['pressure-valve.ts']) {
    const source = ts.createSourceFile(file, readFileSync(path.join(ROOT, 'operators', file), 'utf8'), ts.ScriptTarget.ES2023, true);
    source.forEachChild((node) => {
      if (ts.isInterfaceDeclaration(node)) shared.set(node.name.text, node.members.map((member) => member.name!.getText(source)));
    });
  }
  return shared;
}

/** Each operator (operators/<name>.ts exporting <camelName>) with the fields of its <PascalName>Options (inherited ones too). */
function operatorsInCode(): Map<string, string[]> {
  const operators = new Map<string, string[]>();
  const shared = sharedOptionInterfaces();
  for (const file of readdirSync(path.join(ROOT, 'operators')).filter((f) => f.endsWith('.ts') && f !== 'index.ts' && f !== 'options.ts')) {
    const kebab = file.slice(0, -'.ts'.length);
    const source = ts.createSourceFile(file, readFileSync(path.join(ROOT, 'operators', file), 'utf8'), ts.ScriptTarget.ES2023, true);
    let exported = false;
    let fields: string[] | undefined;
    source.forEachChild((node) => {
      if (ts.isFunctionDeclaration(node) && node.name?.text === camel(kebab)) exported = true;
      if (ts.isInterfaceDeclaration(node) && node.name.text === `${pascal(kebab)}Options`) {
        const inherited = (node.heritageClauses ?? []).flatMap((clause) => clause.types).map((type) => type.expression.getText(source));
        for (const name of inherited) expect(shared.has(name), `${node.name.text} extends ${name}: add its file to sharedOptionInterfaces`).to.equal(true);
        fields = [...node.members.map((member) => member.name!.getText(source)), ...inherited.flatMap((name) => shared.get(name)!)];
      }
    });
    if (!exported) continue;
    expect(fields, `operators/${file}: no ${pascal(kebab)}Options interface`).to.be.an('array');
    operators.set(camel(kebab), fields!);
  }
  return operators;
}

/** `signalpath <command> …` as shown in code blocks and inline code of a Markdown file. */
function commandUses(markdown: string): Array<{ command: string; flags: string[]; text: string }> {
  const snippets: string[] = [];
  let inBlock = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) inBlock = !inBlock;
    else if (inBlock) snippets.push(line);
    else for (const match of line.matchAll(/`([^`]+)`/g)) snippets.push(match[1]!);
  }
  const uses = [];
  for (const snippet of snippets) {
    for (const match of snippet.matchAll(/(?:^|\s)(?:npx signalpath|node bin\/signalpath\.js|signalpath) ([a-z][a-z-]*)([^#|&;\n]*)/g)) {
      uses.push({ command: match[1]!, flags: [...match[2]!.matchAll(/(?:^|[\s[])(--[a-z][a-z0-9-]*)/g)].map((m) => m[1]!), text: match[0]!.trim() });
    }
  }
  return uses;
}

describe('README.md', () => {
  it('is a front door: at most 250 lines', () => {
    expect(README.split('\n').length).to.be.at.most(250);
  });

  it('shows code that is compiled and run: each marked block is its regions, verbatim', () => {
    const blocks = [...README.matchAll(/<!-- code: ([^#\s]+)#([^\s]+) -->\n```ts\n([\s\S]*?)\n```/g)];
    expect(blocks.length).to.be.at.least(2);
    for (const [, file, regions, shown] of blocks) {
      expect(shown, `${file}#${regions}`).to.equal(regions!.split(',').map((name) => region(file!, name)).join('\n\n'));
    }
  });

  it('has a row per operator whose options are exactly the fields of its options interface', () => {
    const after = README.slice(README.indexOf('| operator | state | time-based | options |')).split('\n');
    const table = after.slice(2, after.findIndex((line) => line.trim() === ''));
    const rows = new Map(
      table.map((line) => {
        const cells = line.split(' | ');
        return [cells[0]!.replace(/^\| `|`$/g, ''), cells.at(-1)!.replace(/ \|$/, '')] as const;
      }),
    );
    const operators = operatorsInCode();
    expect(operators.size).to.be.at.least(6);
    expect([...rows.keys()].sort(), 'operators in the table').to.deep.equal([...operators.keys()].sort());
    for (const [name, fields] of operators) {
      // As a set: inherited options (PressureOptions) have no place of their own in the interface.
      const cell = (rows.get(name) ?? '').split(', ').map((field) => field.replace(/^`|`$/g, ''));
      expect([...cell].sort(), `${name}'s options cell`).to.deep.equal([...fields].sort());
    }
  });

  it('and docs/ show only commands and options the program has', () => {
    const commands = new Map(fullProgram().commands.map((command) => [command.name(), new Set([...command.options.map((option) => option.long!), '--help'])]));
    const files = ['README.md', ...readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md') && f !== 'cli.md').map((f) => `docs/${f}`)];
    let checked = 0;
    for (const file of files) {
      for (const use of commandUses(readFileSync(path.join(ROOT, file), 'utf8'))) {
        const options = commands.get(use.command);
        expect(options, `${file}: \`${use.text}\`: no command ${use.command}`).to.not.equal(undefined);
        for (const flag of use.flags) expect([...options!], `${file}: \`${use.text}\``).to.include(flag);
        checked++;
      }
    }
    expect(checked).to.be.greaterThan(20);
  });

  it('links to files that exist', () => {
    const targets = [...README.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z]+:/.test(t));
    expect(targets.length).to.be.greaterThan(10);
    for (const target of targets) {
      expect(existsSync(path.join(ROOT, target)), target).to.equal(true);
    }
  });
});
