import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { NabProfile } from './types.js';

/** NAB's three application profiles, in the order NAB reports them. */
export const NAB_PROFILE_NAMES = ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'] as const;
export type NabProfileName = (typeof NAB_PROFILE_NAMES)[number];

const weight = z.number().finite().nonnegative();
const profilesFileSchema = z.record(
  z.string(),
  z.object({ CostMatrix: z.object({ tpWeight: weight, fpWeight: weight, fnWeight: weight, tnWeight: weight.optional() }) }),
);

/** Parses the content of NAB's `config/profiles.json` (validated; errors name the failing field). */
export function parseNabProfiles(json: unknown, source = 'profiles.json'): NabProfile[] {
  const parsed = profilesFileSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(`${source}: ${z.prettifyError(parsed.error)}`);
  }
  return Object.entries(parsed.data).map(([name, { CostMatrix }]) => ({
    name,
    tpWeight: CostMatrix.tpWeight,
    fpWeight: CostMatrix.fpWeight,
    fnWeight: CostMatrix.fnWeight,
  }));
}

/** Reads `config/profiles.json` from a NAB folder. */
export async function readNabProfiles(dataDir: string): Promise<NabProfile[]> {
  const file = path.join(dataDir, 'config', 'profiles.json');
  return parseNabProfiles(JSON.parse(await readFile(file, 'utf8')), file);
}
