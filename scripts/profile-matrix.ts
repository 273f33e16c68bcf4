/**
 * Profile robustness: model-monitor with the same settings (its defaults, or MODEL_MONITOR_* from the
 * environment) on every stream profile × budget × seed, on the topology test driver (no broker),
 * scored against the ground truth. Each cell is one run; runs vary a little (lab/evaluate/driver-run.ts).
 * Writes a table of incident recall, observable recall (≥ 5 affected events), per-mention and
 * per-episode precision and true mentions per 10k to `<out>.json` and `<out>.md` after every cell (a
 * run cut short keeps what it measured).
 *
 *   nice -n 10 npx tsx scripts/profile-matrix.ts [--events 300000] [--seeds 7,8] [--budgets 0.01,0.1]
 *     [--profiles default,few-hot,many-flat,noisy] [--out reports/profile-matrix]
 *
 * Never tune on this table: it is what the defaults give on streams they were not chosen on.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runModelMonitorOnDriver } from '../lab/evaluate/driver-run.js';
import { PROFILE_NAMES, type ProfileName } from '../lab/generator/index.js';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '300000' },
    seeds: { type: 'string', default: '7,8' },
    budgets: { type: 'string', default: '0.01,0.1' },
    profiles: { type: 'string', default: PROFILE_NAMES.join(',') },
    out: { type: 'string', default: 'reports/profile-matrix' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (args.help) {
  console.log(`usage: npx tsx scripts/profile-matrix.ts [--events 300000] [--seeds 7,8] [--budgets 0.01,0.1]
  [--profiles ${PROFILE_NAMES.join(',')}] [--out reports/profile-matrix]
model-monitor (its defaults; MODEL_MONITOR_* variables apply) on every profile × budget × seed, topology test
driver, no broker; writes <out>.json and <out>.md.`);
  process.exit(0);
}

const list = (raw: string): string[] => raw.split(',').map((s) => s.trim()).filter(Boolean);
const events = Number(args.events);
const seeds = list(args.seeds).map(Number);
const budgets = list(args.budgets).map(Number);
const profiles = list(args.profiles);
const bad = [
  ...(Number.isInteger(events) && events >= 1000 ? [] : [`--events ${args.events}: expected a whole number ≥ 1000`]),
  ...seeds.filter((s) => !Number.isInteger(s)).map((s) => `--seeds: ${s} is not a whole number`),
  ...budgets.filter((b) => !(b > 0 && b <= 1)).map((b) => `--budgets: ${b} is not in (0, 1]`),
  ...profiles.filter((p) => !(PROFILE_NAMES as readonly string[]).includes(p)).map((p) => `--profiles: ${p} is not one of ${PROFILE_NAMES.join(', ')}`),
];
if (bad.length > 0) {
  for (const message of bad) console.error(message);
  process.exit(2);
}

interface Cell {
  readonly profile: string;
  readonly budget: number;
  readonly seed: number;
  readonly incidents: number;
  readonly detected: number;
  readonly observable: number;
  readonly observable_detected: number;
  readonly recall: number;
  readonly observable_recall: number;
  readonly mentions: number;
  readonly matched_mentions: number;
  readonly precision: number;
  readonly episodes: number;
  readonly true_episodes: number;
  readonly episode_precision: number;
  readonly mentions_per_episode: number;
  readonly true_mentions_per_10k: number;
  readonly mentions_per_10k: number;
  readonly seconds: number;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const ratio = (a: number, b: number, empty: number): number => (b === 0 ? empty : a / b);

/** Per profile × budget, pooled over seeds (sums, then ratios). */
function pooled(cells: readonly Cell[]): Omit<Cell, 'seed' | 'seconds'>[] {
  const groups = new Map<string, Cell[]>();
  for (const c of cells) groups.set(`${c.profile}|${c.budget}`, [...(groups.get(`${c.profile}|${c.budget}`) ?? []), c]);
  return [...groups.values()].map((group) => {
    const sum = (k: keyof Cell): number => group.reduce((n, c) => n + (c[k] as number), 0);
    return {
      profile: group[0]!.profile,
      budget: group[0]!.budget,
      incidents: sum('incidents'),
      detected: sum('detected'),
      observable: sum('observable'),
      observable_detected: sum('observable_detected'),
      recall: ratio(sum('detected'), sum('incidents'), 0),
      observable_recall: ratio(sum('observable_detected'), sum('observable'), 0),
      mentions: sum('mentions'),
      matched_mentions: sum('matched_mentions'),
      precision: ratio(sum('matched_mentions'), sum('mentions'), 1),
      episodes: sum('episodes'),
      true_episodes: sum('true_episodes'),
      episode_precision: ratio(sum('true_episodes'), sum('episodes'), 1),
      mentions_per_episode: ratio(sum('mentions'), sum('episodes'), 0),
      true_mentions_per_10k: ratio(sum('matched_mentions') * 10_000, group.length * events, 0),
      mentions_per_10k: ratio(sum('mentions') * 10_000, group.length * events, 0),
    };
  });
}

function markdown(cells: readonly Cell[], command: string, done: boolean): string {
  const lines = [
    '# Profile matrix: model-monitor on streams of other shapes',
    '',
    `${events.toLocaleString('en')} events per run; seeds ${seeds.join(', ')}; model-monitor's settings as in the environment (defaults otherwise), the same for every cell; topology test driver, no broker; one run per cell (runs of one cell vary a little: the bandit's allocation and the asynchronous steps). Command: \`${command}\`.${done ? '' : ' **Incomplete: still running or cut short.**'}`,
    '',
    'Recall: incidents with a matching mention (model, segment, field, window within 60 s); observable: incidents with ≥ 5 affected events. Precision per mention and per episode (a run of mentions of one model × segment × field × direction, gaps ≤ 2 min).',
    '',
    '## Pooled over seeds',
    '',
    '| profile | budget | recall | observable recall | precision | precision / episode | mentions / episode | true mentions / 10k | mentions / 10k |',
    '|---|---|---|---|---|---|---|---|---|',
    ...pooled(cells).map((c) => `| ${c.profile} | ${pct(c.budget)} | ${pct(c.recall)} (${c.detected}/${c.incidents}) | ${pct(c.observable_recall)} (${c.observable_detected}/${c.observable}) | ${pct(c.precision)} (${c.matched_mentions}/${c.mentions}) | ${pct(c.episode_precision)} (${c.true_episodes}/${c.episodes}) | ${c.mentions_per_episode.toFixed(1)} | ${c.true_mentions_per_10k.toFixed(2)} | ${c.mentions_per_10k.toFixed(2)} |`),
    '',
    '## Every run',
    '',
    '| profile | budget | seed | recall | observable recall | precision | precision / episode | mentions | episodes | true mentions / 10k | time |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...cells.map((c) => `| ${c.profile} | ${pct(c.budget)} | ${c.seed} | ${pct(c.recall)} (${c.detected}/${c.incidents}) | ${pct(c.observable_recall)} (${c.observable_detected}/${c.observable}) | ${pct(c.precision)} | ${pct(c.episode_precision)} | ${c.mentions} | ${c.episodes} | ${c.true_mentions_per_10k.toFixed(2)} | ${c.seconds.toFixed(0)} s |`),
    '',
  ];
  return lines.join('\n');
}

{
  const command = `npx tsx scripts/profile-matrix.ts ${process.argv.slice(2).join(' ')}`.trim();
  const detectorEnv = Object.entries(process.env).filter(([k]) => k.startsWith('MODEL_MONITOR_'));
  console.log(`profile matrix: ${profiles.length} profiles × ${budgets.length} budgets × ${seeds.length} seeds, ${events.toLocaleString('en')} events each; model-monitor settings: ${detectorEnv.length === 0 ? 'defaults' : detectorEnv.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  await mkdir(path.dirname(path.resolve(args.out)), { recursive: true });
  const cells: Cell[] = [];
  const total = profiles.length * budgets.length * seeds.length;
  const write = async (done: boolean): Promise<void> => {
    await writeFile(`${args.out}.json`, `${JSON.stringify({ command, events, seeds, budgets, profiles, done, pooled: pooled(cells), cells }, null, 2)}\n`);
    await writeFile(`${args.out}.md`, markdown(cells, command, done));
  };
  for (const profile of profiles) {
    for (const budget of budgets) {
      for (const seed of seeds) {
        const startedAt = Date.now();
        const label = `[${cells.length + 1}/${total}] ${profile} budget ${pct(budget)} seed ${seed}`;
        let lastDecile = 0;
        const { score } = await runModelMonitorOnDriver({
          stream: { count: events, seed, profile: profile as ProfileName },
          env: process.env,
          overrides: { sampleFraction: budget },
          onProgress: (piped) => {
            const decile = Math.floor((10 * piped) / events);
            if (decile > lastDecile) process.stdout.write(decile === 1 ? `${label}: ${10 * decile}%` : ` ${10 * decile}%`);
            lastDecile = decile;
          },
        });
        const seconds = (Date.now() - startedAt) / 1000;
        cells.push({
          profile,
          budget,
          seed,
          incidents: score.incidents,
          detected: score.incidents_detected,
          observable: score.observable_incidents,
          observable_detected: score.observable_detected,
          recall: score.incident_recall,
          observable_recall: score.observable_recall,
          mentions: score.mentions,
          matched_mentions: score.matched_mentions,
          precision: score.precision,
          episodes: score.episodes,
          true_episodes: score.true_episodes,
          episode_precision: score.episode_precision,
          mentions_per_episode: score.mentions_per_episode,
          true_mentions_per_10k: score.true_mentions_per_10k,
          mentions_per_10k: score.mentions_per_10k,
          seconds,
        });
        console.log(`\n${label}: recall ${pct(score.incident_recall)} (${score.incidents_detected}/${score.incidents}), observable ${pct(score.observable_recall)} (${score.observable_detected}/${score.observable_incidents}), precision ${pct(score.precision)} of ${score.mentions}, per episode ${pct(score.episode_precision)} of ${score.episodes} (${seconds.toFixed(0)} s)`);
        await write(false);
      }
    }
  }
  await write(true);
  console.log(`\n${markdown(cells, command, true)}`);
  console.log(`written ${args.out}.json and ${args.out}.md`);
}
