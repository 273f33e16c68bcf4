/**
 * reports/lab.html: the lab's charts with chart.js inlined (the page opens offline): precision/recall
 * over the detector threshold per variant, mention rate per cost, lane load per lane, time-to-mention
 * distributions, and the bandit's allocation over time.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { LabReport } from './lab-report.js';

const require = createRequire(import.meta.url);
const COLOURS = ['#868e96', '#d9480f', '#1c7ed6', '#37b24d', '#f59f00', '#ae3ec9', '#0ca678', '#e64980', '#5c7cfa', '#495057'];

/** Time-to-mention histogram bins (ms, upper edges); the last bin takes the rest. */
const LATENCY_BINS_MS = [50, 100, 200, 500, 1000, 2000, 5000, 10_000, 30_000, Infinity];

export async function renderLabHtml(report: LabReport, markdownTable: string): Promise<string> {
  // The package's exports map hides dist/chart.umd.min.js; its main entry sits in the same folder.
  const chartJs = await readFile(path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
  const colour = (i: number): string => COLOURS[i % COLOURS.length]!;
  const results = report.results;
  const pr = {
    datasets: results.map((r, i) => ({ label: r.variant.name, data: r.curve.map((p) => ({ x: p.recall, y: p.precision })), borderColor: colour(i), backgroundColor: colour(i), showLine: true })),
  };
  const cost = {
    labels: results.map((r) => r.variant.name),
    datasets: [{ label: 'mentions per $1k of spend', data: results.map((r) => r.row.mentions_per_1k_usd ?? 0), backgroundColor: results.map((_, i) => colour(i)) }],
  };
  const laneCount = Math.max(0, ...results.map((r) => laneLoads(r.summary.topologyReport).length));
  const lanes = {
    labels: Array.from({ length: laneCount }, (_, i) => `lane ${i}`),
    datasets: results.map((r, i) => ({ label: `${r.variant.name} (CV ${r.row.lane_load_cv === null ? 'n/a' : `${(100 * r.row.lane_load_cv).toFixed(1)}%`})`, data: laneLoads(r.summary.topologyReport), backgroundColor: colour(i) })),
  };
  const latency = {
    labels: LATENCY_BINS_MS.map((edge, i) => (edge === Infinity ? `> ${LATENCY_BINS_MS[i - 1]} ms` : `≤ ${edge} ms`)),
    datasets: results.map((r, i) => ({ label: r.variant.name, data: histogram(r.latenciesMs), borderColor: colour(i), backgroundColor: colour(i) })),
  };
  const bandit = results.find((r) => r.variant.name === 'signal-path');
  const allocations = (bandit?.summary.topologyReport?.['allocations'] ?? []) as { epoch_start_ms: number; emitted_by_arm: Record<string, number> }[];
  const arms = [...new Set(allocations.flatMap((a) => Object.keys(a.emitted_by_arm)))];
  const allocation = {
    labels: allocations.map((a) => new Date(a.epoch_start_ms).toISOString().slice(5, 16).replace('T', ' ')),
    datasets: arms.map((arm, i) => ({ label: arm, data: allocations.map((a) => a.emitted_by_arm[arm] ?? 0), backgroundColor: colour(i + 2), borderColor: colour(i + 2), fill: true, pointRadius: 0 })),
  };
  const charts: { id: string; title: string; config: { type: string; data: unknown; options: Record<string, unknown> } }[] = [
    { id: 'pr', title: 'Precision / recall over the detector threshold (mentions scoring below a threshold left out)', config: { type: 'scatter', data: pr, options: { scales: { x: { title: { display: true, text: 'incident recall' }, min: 0, max: 1 }, y: { title: { display: true, text: 'precision' }, min: 0, max: 1 } } } } },
    { id: 'cost', title: 'Mention rate per cost: mentions per $1k of spend', config: { type: 'bar', data: cost, options: { plugins: { legend: { display: false } } } } },
    { id: 'lanes', title: 'Lane load: records processed per lane', config: { type: 'bar', data: lanes, options: {} } },
    { id: 'latency', title: 'Time to mention: mentions per latency bin', config: { type: 'bar', data: latency, options: {} } },
    { id: 'bandit', title: 'Bandit allocation over event time (signal-path): records sampled per arm per epoch', config: { type: 'line', data: allocation, options: { scales: { y: { stacked: true } }, animation: false } } },
  ];
  charts.push(...recalibrationCharts(results, colour));
  const canvases = charts.map((c) => `<section><h2>${escapeHtml(c.title)}</h2><canvas id="${c.id}" height="110"></canvas></section>`).join('\n');
  const scripts = charts.map((c) => `new Chart(document.getElementById(${JSON.stringify(c.id)}), ${JSON.stringify(withoutAnimation(c.config))});`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>signal-path lab</title>
<style>body{font-family:system-ui,sans-serif;margin:16px;color:#212529;max-width:1300px}h1{font-size:20px}h2{font-size:15px;margin:18px 0 4px}
table{border-collapse:collapse;font-size:12px;margin:6px 0}td,th{border:1px solid #dee2e6;padding:3px 6px;text-align:left;vertical-align:top}th{background:#f1f3f5}p{font-size:13px;color:#495057}section{margin-bottom:12px}</style>
<script>${chartJs}</script>
</head>
<body>
<h1>The signal-path lab — ${report.events.toLocaleString('en')} events, ${results.length} variants</h1>
${markdownToHtml(markdownTable)}
${canvases}
<script>
${scripts}
</script>
</body>
</html>
`;
}

/**
 * The Markdown report as HTML: its headings, paragraphs and pipe tables (the only constructs
 * report-markdown.ts writes), so the page shows the same figures as lab.md.
 */
function markdownToHtml(markdown: string): string {
  const html: string[] = [];
  let table: string[][] = [];
  const inline = (text: string): string => escapeHtml(text).replace(/\*\*(.+?)\*\*/g, '<b>$1</b>').replace(/`(.+?)`/g, '<code>$1</code>');
  const flush = (): void => {
    if (table.length === 0) return;
    const [head, , ...body] = table;
    html.push(`<table><tr>${head!.map((c) => `<th>${inline(c)}</th>`).join('')}</tr>${body.map((row) => `<tr>${row.map((c) => `<td>${inline(c)}</td>`).join('')}</tr>`).join('')}</table>`);
    table = [];
  };
  for (const line of markdown.split('\n')) {
    if (line.startsWith('|')) {
      table.push(line.slice(1, -1).split('|').map((c) => c.trim()));
      continue;
    }
    flush();
    if (line.startsWith('# ')) continue; // the page has its own title
    if (line.startsWith('## ')) html.push(`<h2>${inline(line.slice(3))}</h2>`);
    else if (line.trim() !== '') html.push(`<p>${inline(line)}</p>`);
  }
  flush();
  return html.join('\n');
}

/**
 * The recalibration experiment over event time (hours from the stream's start): rolling precision,
 * rolling recall, and the level factors (mean over fields, replayed from the labels), one line per
 * recalibration variant; none when the run had no such variant.
 */
function recalibrationCharts(results: LabReport['results'], colour: (i: number) => string): { id: string; title: string; config: { type: string; data: unknown; options: Record<string, unknown> } }[] {
  const tracked = results.filter((r) => r.recalibration !== undefined);
  if (tracked.length === 0) return [];
  const hours = (ms: number, startMs: number): number => Number(((ms - startMs) / 3_600_000).toFixed(3));
  // Slow-only variants dashed, fast ones solid; one colour per start.
  const style = (r: (typeof tracked)[number], i: number): Record<string, unknown> => ({
    label: r.variant.name,
    borderColor: colour(i),
    backgroundColor: colour(i),
    borderDash: r.variant.labelLanes === 'slow' ? [6, 4] : [],
    showLine: true,
    pointRadius: 0,
    borderWidth: 1.5,
  });
  const series = (pick: (p: NonNullable<(typeof tracked)[number]['recalibration']>['points'][number]) => number | null): unknown => ({
    datasets: tracked.map((r, i) => ({ ...style(r, i), data: r.recalibration!.points.flatMap((p) => (pick(p) === null ? [] : [{ x: hours(p.atMs, r.recalibration!.startMs), y: pick(p) }])) })),
  });
  const meanScale = (scales: Readonly<Record<string, number>>): number => {
    const values = Object.values(scales);
    return values.length === 0 ? 1 : values.reduce((a, b) => a + b, 0) / values.length;
  };
  const levels = {
    datasets: tracked.map((r, i) => {
      const track = r.recalibration!;
      const end = track.points[track.points.length - 1]?.atMs ?? track.startMs;
      // A step line: each factor holds until the next label moves it, up to the end of the run.
      const steps = track.levels.flatMap((p, k) => {
        const next = track.levels[k + 1]?.atMs ?? end;
        return [{ x: hours(p.atMs, track.startMs), y: meanScale(p.scales) }, { x: hours(next, track.startMs), y: meanScale(p.scales) }];
      });
      return { ...style(r, i), data: steps };
    }),
  };
  const axes = (y: string, min?: number, max?: number): Record<string, unknown> => ({ scales: { x: { type: 'linear', title: { display: true, text: "event time since the stream's start, h" } }, y: { title: { display: true, text: y }, ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) } } });
  return [
    { id: 'recal-precision', title: 'Recalibration: rolling precision over event time (dashed: slow lane only)', config: { type: 'scatter', data: series((p) => p.precision), options: axes('rolling precision', 0, 1) } },
    { id: 'recal-recall', title: 'Recalibration: rolling incident recall over event time (dashed: slow lane only)', config: { type: 'scatter', data: series((p) => p.recall), options: axes('rolling recall', 0, 1) } },
    { id: 'recal-levels', title: 'Recalibration: level factor over event time, mean over fields (replayed from the labels; 1 = calibrated)', config: { type: 'scatter', data: levels, options: axes('level factor') } },
  ];
}

function laneLoads(report: Readonly<Record<string, unknown>> | undefined): number[] {
  const lanes = report?.['lanes'];
  return Array.isArray(lanes) ? lanes.map((lane) => Number((lane as { records?: unknown }).records) || 0) : [];
}

function histogram(values: readonly number[]): number[] {
  const counts = LATENCY_BINS_MS.map(() => 0);
  for (const v of values) counts[LATENCY_BINS_MS.findIndex((edge) => v <= edge)]!++;
  return counts;
}

function withoutAnimation(config: { options: Record<string, unknown> }): unknown {
  // Headless screenshots are taken at once: draw the final frame immediately.
  return { ...config, options: { ...config.options, animation: false } };
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
