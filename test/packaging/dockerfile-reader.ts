/** Reads a Dockerfile into stages of instructions, enough to check its structure (no hadolint here). */

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

export interface Stage {
  readonly from: string;
  readonly name: string | null;
  readonly instructions: readonly Instruction[];
}

export function readDockerfile(text: string): Stage[] {
  const logical = text
    .replace(/\\\n/g, ' ') // continuation lines
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const stages: { from: string; name: string | null; instructions: Instruction[] }[] = [];
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') {
      const [, image = '', name = null] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      stages.push({ from: image, name, instructions: [] });
    } else {
      if (stages.length === 0) throw new Error(`${keyword} before the first FROM`);
      stages.at(-1)!.instructions.push({ keyword: keyword.toUpperCase(), args: args.replace(/\s+/g, ' ') });
    }
  }
  return stages;
}

/** `ENV A=1 B=2` instructions of a stage, merged. */
export function stageEnv(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { keyword, args } of stage.instructions) {
    if (keyword !== 'ENV') continue;
    for (const [, name, value] of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(\S+)/g)) env[name!] = value!;
  }
  return env;
}

/** The exec-form argument list of the last `keyword` (ENTRYPOINT, CMD) in a stage. */
export function execForm(stage: Stage, keyword: string): string[] {
  const instruction = stage.instructions.filter((i) => i.keyword === keyword).at(-1);
  if (instruction === undefined) throw new Error(`no ${keyword}`);
  return JSON.parse(instruction.args) as string[];
}
