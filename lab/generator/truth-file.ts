/**
 * The ground-truth file: JSON lines, first `{ "type": "run", … }` then one `{ "type": "incident", … }`
 * per injected incident, then (on a stream profile with noise) one `{ "type": "noise", … }` per noise
 * episode that is not an incident. `signalpath generate --truth` writes it; `signalpath evaluate` reads it.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { GroundTruthIncidentResult, GroundTruthRun, NoiseEpisode } from './stream.js';

export interface GroundTruth {
  readonly run: GroundTruthRun;
  readonly incidents: readonly GroundTruthIncidentResult[];
  /** Noise that is not an incident (slow bursts, outages, gaps), on profiles that have it. */
  readonly noise?: readonly NoiseEpisode[];
}

export async function writeGroundTruth(file: string, truth: GroundTruth): Promise<void> {
  const lines = [
    JSON.stringify({ type: 'run', ...truth.run }),
    ...truth.incidents.map((incident) => JSON.stringify({ type: 'incident', ...incident })),
    ...(truth.noise ?? []).map((episode) => JSON.stringify({ type: 'noise', ...episode })),
  ];
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFile(file, `${lines.join('\n')}\n`);
}

export async function readGroundTruth(file: string): Promise<GroundTruth> {
  const text = await readFile(file, 'utf8');
  let run: GroundTruthRun | undefined;
  const incidents: GroundTruthIncidentResult[] = [];
  const noise: NoiseEpisode[] = [];
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
    else if (type === 'noise') noise.push(rest as unknown as NoiseEpisode);
    else throw new Error(`${file}:${i + 1}: unknown record type ${JSON.stringify(type)} (expected run, incident or noise)`);
  });
  if (run === undefined) throw new Error(`${file}: no { "type": "run" } line: is this a ground-truth file from signalpath generate?`);
  return noise.length === 0 ? { run, incidents } : { run, incidents, noise };
}
