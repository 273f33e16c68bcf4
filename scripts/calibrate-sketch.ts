/**
 * Calibrates the change sketch's alarm level: the mean run length between false alarms (ARL0) of
 * the real sketch (SketchTable: warm-up, robust learnt baseline, z clipped at ±4, two-sided CUSUM
 * with k = 0.5, capped, episodes restarting from 0) on null streams, against Siegmund's
 * approximation. Null streams, one value per record, 16 keys in turn:
 *
 * - gaussian: N(0, 1);
 * - student-t3: Student's t with 3 degrees of freedom (heavy tails, finite variance);
 * - contaminated: N(0, 1), but 1 % of the values a Pareto outlier (scale 3, shape 1.5, random sign).
 *
 * For each level h of a grid it counts the episodes over enough records for about 200 of them (ARL =
 * key-records ÷ episodes; an episode restarts the statistic, so run lengths are renewals), fits
 * ln ARL = a + s·h per stream, and prints, per target ARL0, the level by theory and by each fit and
 * the correction (fit − theory) that alarm-level.ts applies. Deterministic (seeded).
 *
 *   npx tsx scripts/calibrate-sketch.ts [--records-cap 40000000] [--json docs/sketch-calibration.json]
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { SketchTable } from '../operators/change-sketch/sketch-table.js';
import { siegmundArl, siegmundLevel } from '../operators/change-sketch/alarm-level.js';
import { SeededRandom } from '../core/random.js';

const { values: args } = parseArgs({
  options: {
    'records-cap': { type: 'string', default: '40000000' },
    json: { type: 'string' },
    // Keys per fallback key (a model's segments): 0 = none, the calibration the fits come from; with
    // N > 0 the keys read against the other keys' level and the peer check runs (a check, not a fit).
    peers: { type: 'string', default: '0' },
    levels: { type: 'string' },
  },
});
const recordsCap = Number(args['records-cap']);
const K = 0.5;
const KEYS = 16;
const LEVELS = args.levels === undefined ? [3, 4, 5, 6, 7, 8, 9, 10] : args.levels.split(',').map(Number);
const PEERS = Number(args.peers);
const TARGETS = [1e3, 1e4, 1e5, 1e6, 1e7, 1e8];

type Stream = 'gaussian' | 'student-t3' | 'contaminated';
const STREAMS: readonly Stream[] = ['gaussian', 'student-t3', 'contaminated'];

function sampler(stream: Stream, random: SeededRandom): () => number {
  let spare = NaN;
  const normal = (): number => {
    if (!Number.isNaN(spare)) {
      const out = spare;
      spare = NaN;
      return out;
    }
    const u = random.nextOpenFloat();
    const v = random.nextFloat();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  switch (stream) {
    case 'gaussian':
      return normal;
    case 'student-t3':
      return () => {
        const a = normal();
        const b = normal();
        const c = normal();
        return normal() / Math.sqrt((a * a + b * b + c * c) / 3);
      };
    case 'contaminated':
      return () => {
        if (random.nextFloat() >= 0.01) return normal();
        const magnitude = 3 * random.nextOpenFloat() ** (-1 / 1.5);
        return random.nextFloat() < 0.5 ? -magnitude : magnitude;
      };
  }
}

/** Key-records per episode of the real sketch at a fixed level on a null stream. */
function measureArl(stream: Stream, h: number, seed: number): { arl: number; episodes: number; records: number } {
  const table = new SketchTable({ fields: ['x'], level: { fixed: h } });
  const fallbackOf = (i: number): string | undefined => (PEERS > 0 ? `m${Math.floor(i / PEERS)}` : undefined);
  const draw = sampler(stream, SeededRandom.fromSeed(seed));
  const keys = Array.from({ length: KEYS }, (_, i) => `k${i}`);
  const wanted = Math.min(recordsCap, Math.max(2_000_000, 200 * siegmundArl(h, K)));
  const values = new Float64Array(1);
  let records = 0;
  // One record per key in turn, one second apart in event time (relearning after 2 h of alarm is
  // therefore possible, as on a real stream).
  for (; records < wanted; records++) {
    values[0] = draw();
    table.update(keys[records % KEYS]!, fallbackOf(records % KEYS), records * 1000, values);
  }
  const scored = records - KEYS * 50; // the warm-up is not scored
  // With peers, an episode the peer check calls common is not reported; the run length counts every episode.
  const episodes = table.counts.episodes;
  return { arl: episodes === 0 ? Infinity : scored / episodes, episodes, records };
}

/** Least-squares fit of ln ARL = a + s·h over the points with at least 20 episodes. */
function fit(points: readonly { h: number; arl: number; episodes: number }[]): { a: number; s: number } {
  const used = points.filter((p) => p.episodes >= 20);
  const n = used.length;
  const mx = used.reduce((t, p) => t + p.h, 0) / n;
  const my = used.reduce((t, p) => t + Math.log(p.arl), 0) / n;
  const sxy = used.reduce((t, p) => t + (p.h - mx) * (Math.log(p.arl) - my), 0);
  const sxx = used.reduce((t, p) => t + (p.h - mx) ** 2, 0);
  const s = sxy / sxx;
  return { a: my - s * mx, s };
}

const measured: Record<string, { h: number; arl: number; episodes: number; records: number }[]> = {};
for (const stream of STREAMS) {
  measured[stream] = [];
  for (const [i, h] of LEVELS.entries()) {
    const result = measureArl(stream, h, 1000 + i);
    measured[stream].push({ h, ...result });
    console.log(`${stream.padEnd(12)} h ${String(h).padStart(2)}: ARL0 ${result.arl.toFixed(0).padStart(9)} (${result.episodes} episodes in ${result.records} records; Siegmund ${siegmundArl(h, K).toFixed(0)})`);
  }
}
const fits = Object.fromEntries(STREAMS.map((stream) => [stream, fit(measured[stream]!)]));
console.log('\nARL0 target → h: Siegmund | fitted on each null stream (correction = fitted − Siegmund)');
const rows = TARGETS.map((arl) => {
  const theory = siegmundLevel(arl, K);
  const bySim = Object.fromEntries(STREAMS.map((stream) => [stream, (Math.log(arl) - fits[stream]!.a) / fits[stream]!.s]));
  console.log(
    `ARL0 ${arl.toExponential(0).padStart(6)}: Siegmund h ${theory.toFixed(2)} | ${STREAMS.map((s) => `${s} ${bySim[s]!.toFixed(2)} (${(bySim[s]! - theory >= 0 ? '+' : '') + (bySim[s]! - theory).toFixed(2)})`).join(' | ')}`,
  );
  return { arl, theory, ...bySim };
});
console.log(`\nfits ln ARL = a + s·h: ${STREAMS.map((s) => `${s}: a ${fits[s]!.a.toFixed(2)}, s ${fits[s]!.s.toFixed(3)}`).join('; ')}`);
if (args.json !== undefined) await writeFile(args.json, JSON.stringify({ k: K, keys: KEYS, measured, fits, rows }, null, 2));
