/**
 * The command-line reference cannot drift: docs/cli.md is what scripts/cli-docs.ts generates from
 * the commander program, every command and option of the program is in it, and the options several
 * commands share are one option, not copies that disagree.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { CLI_DOC, describeOption, fullProgram, renderCliDoc } from '../../scripts/cli-docs.js';
import { createProgram } from '../../cli/program.js';
import { SETTINGS } from '../../runtime/config.js';

describe('command-line reference', () => {
  it('docs/cli.md is what `npm run docs:cli` generates (run it after changing a command or an option)', () => {
    expect(readFileSync(CLI_DOC, 'utf8')).to.equal(renderCliDoc());
  });

  it('has a section per command with a row per option', () => {
    const doc = renderCliDoc();
    const program = fullProgram();
    expect(program.commands.length).to.be.greaterThan(10);
    for (const command of program.commands) {
      const start = doc.indexOf(`\n## signalpath ${command.name()}\n`);
      expect(start, command.name()).to.be.greaterThan(0);
      const next = doc.indexOf('\n## ', start + 1);
      const section = doc.slice(start, next === -1 ? undefined : next);
      for (const option of command.options) expect(section, `${command.name()} ${option.flags}`).to.include(`| \`${option.flags.replaceAll('|', '\\|')}\``);
    }
  });

  it('shows a run setting\'s default and variable as the command applies them', () => {
    const run = fullProgram().commands.find((command) => command.name() === 'run')!;
    for (const option of run.options) {
      const setting = Object.values(SETTINGS).find((s) => s.flag === option.long);
      if (setting === undefined) continue;
      const shown = describeOption(option);
      expect(shown.env, option.flags).to.equal(setting.env);
      expect(shown.default, option.flags).to.equal('default' in setting ? String(setting.default) : undefined);
    }
  });

  it('--brokers is one option: the same flag, help and variable on every command that connects to Kafka', () => {
    const withBrokers = fullProgram().commands.filter((command) => command.options.some((option) => option.long === '--brokers'));
    expect(withBrokers.map((command) => command.name()).sort()).to.deep.equal(['demo', 'evaluate', 'generate', 'lab', 'label', 'produce', 'run', 'shadow-report', 'tail']);
    const shapes = new Set(withBrokers.map((command) => JSON.stringify(describeOption(command.options.find((option) => option.long === '--brokers')!))));
    expect([...shapes]).to.deep.equal([JSON.stringify({ flags: '--brokers <host:port,...>', env: 'KAFKA_BROKERS', default: undefined, required: false, help: SETTINGS.brokers.help })]);
  });

  it('a topology\'s image gets only the shipped commands', () => {
    expect(createProgram().commands.map((command) => command.name())).to.deep.equal(['run', 'produce', 'tail', 'hotspots']);
  });
});
