import type { ProfileScore } from './evaluate-detector.js';
import { NAB_PROFILE_NAMES, type NabProfileName } from './profiles.js';
import type { NabFinalScores } from './published-results.js';

/** One line of the scoreboard: a detector's normalised score under each NAB profile. */
export interface ScoreboardRow {
  readonly detector: string;
  /** `ours` for signalpath's detectors, `published` for NAB's scoreboard. */
  readonly source: 'ours' | 'published';
  readonly scores: Readonly<Record<NabProfileName, number>>;
}

const PROFILE_HEADINGS: Readonly<Record<NabProfileName, string>> = {
  standard: 'Standard',
  reward_low_FP_rate: 'Low FP',
  reward_low_FN_rate: 'Low FN',
};

/**
 * Our results in the shape of NAB's `results/final_results.json` (and of `reports/nab.json`):
 * `{ "<detector>": { "standard": …, "reward_low_FP_rate": …, "reward_low_FN_rate": … } }`.
 */
export function toNabFinalScores(
  evaluations: Readonly<Record<string, Readonly<Record<string, ProfileScore>>>>,
): Record<string, Record<string, number>> {
  return Object.fromEntries(
    Object.entries(evaluations).map(([detector, byProfile]) => [
      detector,
      Object.fromEntries(Object.entries(byProfile).map(([profile, score]) => [profile, score.normalizedScore])),
    ]),
  );
}

/**
 * Merges our scores with the published ones, best standard score first (ties by name). A detector
 * missing any of the three profiles is an error rather than a silently blank cell.
 */
export function buildScoreboard(ours: NabFinalScores, published: NabFinalScores): ScoreboardRow[] {
  const rows = [
    ...Object.entries(ours).map(([detector, scores]) => toRow(detector, 'ours', scores)),
    ...Object.entries(published).map(([detector, scores]) => toRow(detector, 'published', scores)),
  ];
  return rows.sort(
    (left, right) => right.scores.standard - left.scores.standard || left.detector.localeCompare(right.detector),
  );
}

function toRow(detector: string, source: ScoreboardRow['source'], scores: Readonly<Record<string, number>>): ScoreboardRow {
  const picked = {} as Record<NabProfileName, number>;
  for (const profile of NAB_PROFILE_NAMES) {
    const score = scores[profile];
    if (score === undefined || !Number.isFinite(score)) {
      throw new Error(`scoreboard: ${source} detector "${detector}" has no finite ${profile} score`);
    }
    picked[profile] = score;
  }
  return { detector, source, scores: picked };
}

/**
 * The scoreboard as a GitHub Markdown table, scores to two decimals. Our detectors are in bold so
 * they stand out among the published ones.
 */
export function formatScoreboardMarkdown(rows: readonly ScoreboardRow[]): string {
  const header = ['#', 'Detector', 'Source', ...NAB_PROFILE_NAMES.map((profile) => PROFILE_HEADINGS[profile])];
  const lines = [
    `| ${header.join(' | ')} |`,
    `| ${['---:', ':---', ':---', ...NAB_PROFILE_NAMES.map(() => '---:')].join(' | ')} |`,
  ];
  rows.forEach((row, index) => {
    const name = escapeMarkdownCell(row.detector);
    const cells = [
      String(index + 1),
      row.source === 'ours' ? `**${name}**` : name,
      row.source,
      ...NAB_PROFILE_NAMES.map((profile) => row.scores[profile].toFixed(2)),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  });
  return lines.join('\n') + '\n';
}

/** The scoreboard as an aligned plain-text table for a terminal; our detectors are marked `*`. */
export function formatScoreboardText(rows: readonly ScoreboardRow[]): string {
  const header = ['#', 'Detector', ...NAB_PROFILE_NAMES.map((profile) => PROFILE_HEADINGS[profile])];
  const body = rows.map((row, index) => [
    String(index + 1),
    row.source === 'ours' ? `* ${row.detector}` : `  ${row.detector}`,
    ...NAB_PROFILE_NAMES.map((profile) => row.scores[profile].toFixed(2)),
  ]);
  const table = [header, ...body];
  const widths = header.map((_, column) => Math.max(...table.map((cells) => (cells[column] ?? '').length)));
  return (
    table
      .map((cells) =>
        cells
          .map((cell, column) => (column === 1 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0)))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

function escapeMarkdownCell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|');
}
