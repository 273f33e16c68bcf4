/**
 * The scoreboard as a self-contained HTML page with an inline SVG bar chart: one group of three
 * horizontal bars (standard, low FP, low FN) per detector, ours beside the published ones. Nothing
 * is fetched (no scripts, fonts, styles or images from elsewhere), so the page renders offline and
 * in a headless browser exactly as it does on a laptop.
 */
import { NAB_PROFILE_NAMES, type NabProfileName } from './profiles.js';
import type { ScoreboardRow } from './scoreboard.js';

export interface ScoreboardChartOptions {
  readonly title: string;
  /** A line under the title (the command, the date). Default none. */
  readonly subtitle?: string;
  /** Extra HTML-escaped lines under the chart (e.g. throughput). Default none. */
  readonly notes?: readonly string[];
}

const PROFILE_LABELS: Readonly<Record<NabProfileName, string>> = {
  standard: 'Standard',
  reward_low_FP_rate: 'Reward low FP',
  reward_low_FN_rate: 'Reward low FN',
};
/** Bar colours per profile: published detectors in muted tones, ours in saturated ones. */
const COLOURS: Readonly<Record<'ours' | 'published', Readonly<Record<NabProfileName, string>>>> = {
  published: { standard: '#7f8c9a', reward_low_FP_rate: '#a9b4bf', reward_low_FN_rate: '#ced5dc' },
  ours: { standard: '#d9480f', reward_low_FP_rate: '#f08c00', reward_low_FN_rate: '#fab005' },
};

const BAR_HEIGHT_PX = 8;
const GROUP_GAP_PX = 5;
const LABEL_WIDTH_PX = 210;
const PLOT_WIDTH_PX = 820;
const TOP_PX = 40;

/** The SVG element alone (used by {@link renderScoreboardHtml}). */
export function renderScoreboardSvg(rows: readonly ScoreboardRow[]): string {
  const lowest = Math.min(0, ...rows.flatMap((row) => NAB_PROFILE_NAMES.map((profile) => row.scores[profile])));
  const domainMin = Math.floor(lowest / 20) * 20;
  const domainMax = 100;
  const x = (score: number): number =>
    LABEL_WIDTH_PX + ((Math.max(domainMin, Math.min(domainMax, score)) - domainMin) / (domainMax - domainMin)) * PLOT_WIDTH_PX;
  const groupHeight = NAB_PROFILE_NAMES.length * BAR_HEIGHT_PX + GROUP_GAP_PX;
  const plotHeight = rows.length * groupHeight;
  const width = LABEL_WIDTH_PX + PLOT_WIDTH_PX + 60;
  const height = TOP_PX + plotHeight + 30;
  const parts: string[] = [];

  // Legend.
  NAB_PROFILE_NAMES.forEach((profile, index) => {
    const left = LABEL_WIDTH_PX + index * 200;
    parts.push(
      `<rect x="${left}" y="8" width="12" height="12" fill="${COLOURS.ours[profile]}"/>`,
      `<rect x="${left + 14}" y="8" width="12" height="12" fill="${COLOURS.published[profile]}"/>`,
      `<text x="${left + 32}" y="18" class="legend">${PROFILE_LABELS[profile]}</text>`,
    );
  });
  parts.push(`<text x="${LABEL_WIDTH_PX + 620}" y="18" class="legend">(bright: signalpath, grey: published)</text>`);

  // Grid lines and axis labels every 20 points.
  for (let tick = domainMin; tick <= domainMax; tick += 20) {
    const tx = x(tick).toFixed(1);
    parts.push(
      `<line x1="${tx}" y1="${TOP_PX - 4}" x2="${tx}" y2="${TOP_PX + plotHeight}" class="${tick === 0 ? 'zero' : 'grid'}"/>`,
      `<text x="${tx}" y="${TOP_PX + plotHeight + 16}" class="tick">${tick}</text>`,
    );
  }

  rows.forEach((row, rowIndex) => {
    const top = TOP_PX + rowIndex * groupHeight;
    const labelY = top + (NAB_PROFILE_NAMES.length * BAR_HEIGHT_PX) / 2 + 4;
    parts.push(
      `<text x="${LABEL_WIDTH_PX - 8}" y="${labelY}" class="${row.source === 'ours' ? 'label ours' : 'label'}">${escapeXml(row.detector)}</text>`,
    );
    NAB_PROFILE_NAMES.forEach((profile, barIndex) => {
      const score = row.scores[profile];
      const y = top + barIndex * BAR_HEIGHT_PX;
      const from = Math.min(x(0), x(score));
      const barWidth = Math.abs(x(score) - x(0));
      parts.push(
        `<rect x="${from.toFixed(1)}" y="${y}" width="${barWidth.toFixed(1)}" height="${BAR_HEIGHT_PX - 1}" fill="${COLOURS[row.source][profile]}">` +
          `<title>${escapeXml(row.detector)} — ${PROFILE_LABELS[profile]}: ${score.toFixed(2)}</title></rect>`,
        `<text x="${(Math.max(x(0), x(score)) + 4).toFixed(1)}" y="${y + BAR_HEIGHT_PX - 1}" class="value">${score.toFixed(1)}</text>`,
      );
    });
  });

  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="NAB scoreboard">` +
    `<style>text{font-family:system-ui,sans-serif;fill:#212529}.legend{font-size:12px}.tick{font-size:11px;text-anchor:middle;fill:#495057}` +
    `.label{font-size:12px;text-anchor:end}.ours{font-weight:700;fill:#d9480f}.value{font-size:8px;fill:#495057}` +
    `.grid{stroke:#e9ecef}.zero{stroke:#495057}</style>` +
    parts.join('') +
    `</svg>`
  );
}

/** A complete HTML page: title, subtitle, the chart and the notes. */
export function renderScoreboardHtml(rows: readonly ScoreboardRow[], options: ScoreboardChartOptions): string {
  const notes = (options.notes ?? []).map((note) => `<li>${escapeXml(note)}</li>`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeXml(options.title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:16px;color:#212529}h1{font-size:20px;margin:0 0 4px}p,li{font-size:13px;color:#495057}</style>
</head>
<body>
<h1>${escapeXml(options.title)}</h1>
${options.subtitle === undefined ? '' : `<p>${escapeXml(options.subtitle)}</p>`}
${renderScoreboardSvg(rows)}
${notes === '' ? '' : `<ul>${notes}</ul>`}
</body>
</html>
`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
