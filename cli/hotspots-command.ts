/**
 * `signalpath hotspots <file>`: what the tail of a run was made of, from the captured-record lines a
 * run appends to `--hotspots-file` (one JSON object per captured record: see telemetry/hotspots.ts).
 * Prints where slow records spent their time and which stage, key, partition, lane, cache outcome and
 * retry count they share, each beside its share among the head-sampled baseline.
 */
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { ConfigError } from '../runtime/config.js';
import { formatHotspots, HotspotSummary, type CapturedSummary } from '../runtime/telemetry/hotspots.js';

export interface HotspotsFlags {
  json?: boolean;
  top?: string;
  topology?: string;
}

/** Reads a hotspots file into a summary; lines that are not captured-record objects are counted and skipped. */
export async function readHotspots(file: string, topology?: string): Promise<{ summary: HotspotSummary; lines: number; skipped: number }> {
  if (!existsSync(file)) throw new ConfigError(`hotspots file ${file} does not exist: run with --hotspots-file ${file} (SIGNALPATH_HOTSPOTS_FILE) first`);
  const summary = new HotspotSummary();
  let lines = 0;
  let skipped = 0;
  for await (const line of createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    lines++;
    let parsed: Partial<CapturedSummary>;
    try {
      parsed = JSON.parse(line) as Partial<CapturedSummary>;
    } catch {
      skipped++;
      continue;
    }
    if (typeof parsed.reason !== 'string' || typeof parsed.hotspot !== 'string' || typeof parsed.stagesMs !== 'object' || typeof parsed.e2eMs !== 'number') {
      skipped++;
      continue;
    }
    if (topology !== undefined && parsed.topology !== topology) continue;
    summary.add({ ...parsed, notes: parsed.notes ?? {}, key: parsed.key ?? '', partition: parsed.partition ?? -1 } as CapturedSummary);
  }
  return { summary, lines, skipped };
}

export async function hotspotsCommand(file: string, flags: HotspotsFlags): Promise<void> {
  const top = flags.top === undefined ? 5 : Number(flags.top);
  if (!Number.isInteger(top) || top < 1 || top > 1000) throw new ConfigError(`invalid --top ${JSON.stringify(flags.top)}: expected a whole number in [1, 1000]`);
  const { summary, lines, skipped } = await readHotspots(file, flags.topology);
  const report = summary.report(top);
  if (flags.json) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  console.log(formatHotspots(report));
  if (skipped > 0) console.error(`(${skipped} of ${lines} lines were not captured-record objects and were skipped)`);
}
