/**
 * The ground-truth file: JSON lines, first `{ "type": "run", … }` then one `{ "type": "incident", … }`
 * per injected incident. `signalpath generate --truth` writes it; `signalpath evaluate` reads it.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { GroundTruthIncidentResult, GroundTruthRun } from './stream.js';

export interface GroundTruth {
  readonly run: GroundTruthRun;
  readonly incidents: readonly GroundTruthIncidentResult[];
}

export async function writeGroundTruth(file: string, truth: GroundTruth): Promise<void> {
  const lines = [JSON.stringify({ type: 'run', ...truth.run }), ...truth.incidents.map((incident) => JSON.stringify({ type: 'incident', ...incident }))];
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFile(file, `${lines.join('\n')}\n`);
}

export async function readGroundTruth(file: string): Promise<GroundTruth> {
  const text = await readFile(file, 'utf8');
  let run: GroundTruthRun | undefined;
  const incidents: GroundTruthIncidentResult[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let record: { type?: string } & Record<string, unknown>;
    try {
      record = JSON.parse(line) as typeof record;
    } catch {
      throw new Error(`${file}:${i + 1}: not JSON`);
    }
    const { type, ...rest } = record;
    if (type === 'run') run = rest as unknown as GroundTruthRun;
    else if (type === 'incident') incidents.push(rest as unknown as GroundTruthIncidentResult);
    else throw new Error(`${file}:${i + 1}: unknown record type ${JSON.stringify(type)} (expected run or incident)`);
  });
  if (run === undefined) throw new Error(`${file}: no { "type": "run" } line: is this a ground-truth file from signalpath generate?`);
  return { run, incidents };
}
