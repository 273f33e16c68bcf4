/**
 * `signalpath nab`: the NAB evaluation of the built-in detectors (see lab/nab/run-nab.ts).
 * Prints progress, the scoreboard beside the published detectors, and points per second per detector.
 */
import path from 'node:path';
import { formatNabRunText, runNab } from '../lab/nab/run-nab.js';
import { detectorNames } from '../operators/parallel-detect/registry.js';
import { ConfigError } from '../runtime/config.js';

export interface NabCommandFlags {
  /** Root of the NAB-format results. Default `reports/nab`. */
  readonly out?: string;
  /** Folder of nab.md, nab.html and nab.json. Default `reports`. */
  readonly reports?: string;
  /** Comma-separated registry names. Default: every registered detector. */
  readonly detectors?: string;
}

export async function nabCommand(flags: NabCommandFlags): Promise<void> {
  const outDir = path.resolve(flags.out ?? path.join('reports', 'nab'));
  const reportsDir = path.resolve(flags.reports ?? 'reports');
  const detectors = flags.detectors === undefined
    ? detectorNames
    : flags.detectors.split(',').map((name) => name.trim()).filter((name) => name !== '');
  const unknown = detectors.filter((name) => !(detectorNames as readonly string[]).includes(name));
  if (detectors.length === 0 || unknown.length > 0) {
    throw new ConfigError(
      `--detectors ${flags.detectors ?? ''}: ${unknown.length > 0 ? `unknown ${unknown.join(', ')}` : 'no names'} (accepted: ${detectorNames.join(', ')})`,
    );
  }
  const command = ['signalpath nab', flags.out && flags.out !== 'reports/nab' ? `--out ${flags.out}` : '', flags.reports && flags.reports !== 'reports' ? `--reports ${flags.reports}` : '', flags.detectors ? `--detectors ${flags.detectors}` : '']
    .filter((part) => part !== '')
    .join(' ');
  const result = await runNab({ outDir, reportsDir, detectors, command, log: (line) => console.log(line) });
  console.log('');
  console.log(formatNabRunText(result));
  console.log(`results: ${outDir}/<detector>/<category>/<detector>_<file>.csv`);
  console.log(`reports: ${result.reportFiles.markdown}, ${result.reportFiles.html}, ${result.reportFiles.json}`);
}
