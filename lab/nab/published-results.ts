import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

/** `{ "<detector>": { "<profile>": normalised score } }`, the shape of NAB's `results/final_results.json`. */
export type NabFinalScores = Readonly<Record<string, Readonly<Record<string, number>>>>;

/** `{ "<detector>": { "<profile>": { threshold, score } } }`, NAB's `config/thresholds.json` (score is raw). */
export type NabThresholds = Readonly<Record<string, Readonly<Record<string, { readonly threshold: number; readonly score: number }>>>>;

const finalScoresSchema = z.record(z.string(), z.record(z.string(), z.number()));
const thresholdsSchema = z.record(
  z.string(),
  z.record(z.string(), z.object({ threshold: z.number(), score: z.number() })),
);

async function readJson<T>(file: string, schema: z.ZodType<T>): Promise<T> {
  const parsed = schema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** The published scoreboard, `results/final_results.json`. */
export function readPublishedFinalScores(dataDir: string): Promise<NabFinalScores> {
  return readJson(path.join(dataDir, 'results', 'final_results.json'), finalScoresSchema);
}

/** The thresholds NAB's optimiser chose for the published detectors, `config/thresholds.json`. */
export function readPublishedThresholds(dataDir: string): Promise<NabThresholds> {
  return readJson(path.join(dataDir, 'config', 'thresholds.json'), thresholdsSchema);
}
