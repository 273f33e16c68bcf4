/**
 * The live status page the runner serves beside `/metrics`: `/status` (plain HTML), `/status.json`
 * (what the page polls: the run's KPIs, step latencies, tail composition, consumer lag) and
 * `/assets/chart.umd.min.js` (chart.js from node_modules, so the page needs no network). The page
 * shows the same KPIs as the Grafana dashboard (dashboards/signalpath.json) for one process, with no
 * Prometheus in between; it keeps its own history (the last 10 minutes of polls) for the time series.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

type Route = () => { readonly contentType: string; readonly body: string | Buffer };

let chartJs: Buffer | undefined;

/** chart.js's UMD bundle, read once from node_modules. */
function chartBundle(): Buffer {
  // The package's export map hides dist/; its main entry sits beside the UMD bundle.
  chartJs ??= readFileSync(path.join(path.dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js'));
  return chartJs;
}

/** The routes for the runner's HTTP endpoints; `status` returns what `/status.json` serves. */
export function statusRoutes(status: () => unknown, pollMs = 2000): Record<string, Route> {
  const page = STATUS_PAGE_HTML.replace('__POLL_MS__', String(pollMs));
  return {
    '/status': () => ({ contentType: 'text/html; charset=utf-8', body: page }),
    '/status.json': () => ({ contentType: 'application/json', body: `${JSON.stringify(status())}\n` }),
    '/assets/chart.umd.min.js': () => ({ contentType: 'text/javascript; charset=utf-8', body: chartBundle() }),
  };
}

const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>signalpath status</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 16px 24px; color: #1d2330; background: #f6f7f9; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  .sub { color: #5b6475; margin-bottom: 14px; }
  .tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 10px; margin-bottom: 14px; }
  .tile { background: #fff; border: 1px solid #dde1e8; border-radius: 6px; padding: 10px 12px; }
  .tile .name { color: #5b6475; font-size: 12px; }
  .tile .value { font-size: 22px; font-weight: 600; margin-top: 2px; }
  .tile .note { color: #5b6475; font-size: 11px; }
  .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 12px; }
  .chart { background: #fff; border: 1px solid #dde1e8; border-radius: 6px; padding: 10px 12px; height: 260px; position: relative; }
  .chart h2 { font-size: 13px; margin: 0 0 6px; }
  .chart canvas { max-height: 220px; }
  .stale { color: #b3261e; }
  table { border-collapse: collapse; font-size: 12px; width: 100%; }
  td, th { text-align: left; padding: 2px 6px; border-bottom: 1px solid #eef0f3; }
</style>
</head>
<body>
<h1>signalpath · <span id="topology">…</span></h1>
<div class="sub" id="updated">waiting for /status.json…</div>
<div class="tiles">
  <div class="tile"><div class="name">mentions per 10k events</div><div class="value" data-kpi="mentionsPer10kEvents">–</div><div class="note" id="events"></div></div>
  <div class="tile"><div class="name">mentions per $1k spend</div><div class="value" data-kpi="mentionsPer1kUsd">–</div><div class="note" id="spend"></div></div>
  <div class="tile"><div class="name">precision (labelled)</div><div class="value" data-kpi="precision">–</div><div class="note" id="labels"></div></div>
  <div class="tile"><div class="name">recall at precision ≥ 0.9</div><div class="value" data-kpi="recallAt90">–</div><div class="note">labelled sample</div></div>
  <div class="tile"><div class="name">feedback latency p50</div><div class="value" data-kpi="feedbackLatencyP50Seconds">–</div><div class="note">mention emitted → label</div></div>
  <div class="tile"><div class="name">end-to-end p99</div><div class="value" data-kpi="e2eP99Ms">–</div><div class="note" id="threshold"></div></div>
  <div class="tile"><div class="name">tail recovery (last spike)</div><div class="value" data-kpi="tailRecoverySeconds">–</div><div class="note" id="spikes"></div></div>
  <div class="tile"><div class="name">cache hit ratio</div><div class="value" data-kpi="cacheHitRatio">–</div><div class="note">enrichment</div></div>
  <div class="tile"><div class="name">lane load spread (CV)</div><div class="value" data-kpi="laneLoadCv">–</div><div class="note">std / mean, last 10 s</div></div>
  <div class="tile"><div class="name">consumer lag</div><div class="value" data-kpi="lag">–</div><div class="note" id="unsettled"></div></div>
</div>
<div class="charts">
  <div class="chart"><h2>mention rate per 10k events · end-to-end p99 (ms)</h2><canvas id="rate"></canvas></div>
  <div class="chart"><h2>recall at precision (labelled)</h2><canvas id="recall"></canvas></div>
  <div class="chart"><h2>latency by step, p99 (ms)</h2><canvas id="steps"></canvas></div>
  <div class="chart"><h2>lane load: records per lane (whole run · last 10 s)</h2><canvas id="lanes"></canvas></div>
  <div class="chart"><h2>sampling budget share per bandit arm</h2><canvas id="budget"></canvas></div>
  <div class="chart"><h2>what the tail is made of (slow records' time by stage)</h2><canvas id="tail"></canvas></div>
</div>
<script src="/assets/chart.umd.min.js"></script>
<script>
const POLL_MS = __POLL_MS__;
const HISTORY = Math.ceil(600000 / POLL_MS);
const fmt = (v, digits = 1, unit = '') => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits) + unit);
const pct = (v) => (v === null || v === undefined ? '–' : (v * 100).toFixed(1) + '%');
const set = (kpi, text) => { document.querySelector('[data-kpi="' + kpi + '"]').textContent = text; };
const note = (id, text) => { document.getElementById(id).textContent = text; };
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;
const bar = (id, label, opts = {}) => new Chart(document.getElementById(id), { type: 'bar', data: { labels: [], datasets: [{ label, data: [], backgroundColor: '#4e79a7' }] }, options: { plugins: { legend: { display: false } }, ...opts } });
const charts = {
  rate: new Chart(document.getElementById('rate'), {
    type: 'line',
    data: { labels: [], datasets: [
      { label: 'mentions / 10k events', data: [], borderColor: '#4e79a7', yAxisID: 'y', pointRadius: 0 },
      { label: 'e2e p99 ms', data: [], borderColor: '#e15759', yAxisID: 'y1', pointRadius: 0 },
    ] },
    options: { scales: { y: { beginAtZero: true, position: 'left' }, y1: { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false } } } },
  }),
  recall: bar('recall', 'recall', { scales: { y: { min: 0, max: 1 } } }),
  // Category axes show every label: Chart.js would skip every other step name.
  steps: bar('steps', 'p99 ms', { indexAxis: 'y', scales: { y: { ticks: { autoSkip: false } } } }),
  lanes: new Chart(document.getElementById('lanes'), {
    type: 'bar',
    data: { labels: [], datasets: [
      { label: 'whole run', data: [], backgroundColor: '#4e79a7', yAxisID: 'y' },
      { label: 'last 10 s', data: [], backgroundColor: '#f28e2b', yAxisID: 'y1' },
    ] },
    options: { scales: { y: { beginAtZero: true, position: 'left' }, y1: { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false } } } },
  }),
  budget: bar('budget', 'share', { scales: { y: { min: 0, max: 1 } } }),
  tail: bar('tail', 'share of slow time', { indexAxis: 'y', scales: { x: { min: 0, max: 1 }, y: { ticks: { autoSkip: false } } } }),
};
function fill(chart, labels, data) { chart.data.labels = labels; chart.data.datasets[0].data = data; chart.update(); }
function render(s) {
  const k = s.kpis;
  document.getElementById('topology').textContent = s.topology;
  document.getElementById('updated').textContent = 'updated ' + new Date(s.atMs).toLocaleTimeString() + ' · ' + s.endToEnd.settled + ' records settled · every ' + POLL_MS / 1000 + ' s';
  document.getElementById('updated').classList.remove('stale');
  set('mentionsPer10kEvents', fmt(k.mentionsPer10kEvents, 2));
  note('events', k.mentions + ' mentions / ' + k.events + ' events');
  set('mentionsPer1kUsd', fmt(k.mentionsPer1kUsd, 2));
  note('spend', k.spendUsd === null ? 'no cost meter' : '$' + k.spendUsd.toFixed(4) + ' spent');
  set('precision', pct(k.precision));
  note('labels', k.labels === null ? 'no labels source' : 'TP ' + k.labels.TRUE_POSITIVE + ' · FP ' + k.labels.FALSE_POSITIVE + ' · unmatched ' + k.labels.unmatched);
  const r90 = (k.recallAtPrecision || []).find((r) => r.precision === 0.9);
  set('recallAt90', r90 ? pct(r90.recall) : '–');
  set('feedbackLatencyP50Seconds', fmt(k.feedbackLatencyP50Seconds, 1, ' s'));
  set('e2eP99Ms', fmt(s.endToEnd.p99Ms, 1, ' ms'));
  note('threshold', s.endToEnd.thresholdMs === null ? 'tail threshold warming up' : 'tail threshold ' + s.endToEnd.thresholdMs.toFixed(1) + ' ms');
  const t = k.tailRecovery;
  set('tailRecoverySeconds', t.activeSeconds > 0 ? 'spike ' + t.activeSeconds.toFixed(0) + ' s' : fmt(t.lastSeconds, 0, ' s'));
  note('spikes', t.episodes + ' spikes · longest ' + t.maxSeconds.toFixed(0) + ' s');
  set('cacheHitRatio', pct(k.cacheHitRatio));
  set('laneLoadCv', fmt(k.laneLoadCv, 2));
  const lag = s.source && s.source.lag ? Object.values(s.source.lag).filter((v) => v !== null) : [];
  set('lag', lag.length === 0 ? '–' : String(lag.reduce((a, b) => a + b, 0)));
  note('unsettled', s.source ? s.source.unsettled + ' unsettled · ' + s.source.consumed + ' consumed' : '');

  const rate = charts.rate;
  rate.data.labels.push(new Date(s.atMs).toLocaleTimeString());
  rate.data.datasets[0].data.push(k.mentionsPer10kEvents);
  rate.data.datasets[1].data.push(s.endToEnd.p99Ms);
  if (rate.data.labels.length > HISTORY) { rate.data.labels.shift(); rate.data.datasets.forEach((d) => d.data.shift()); }
  rate.update();
  fill(charts.recall, (k.recallAtPrecision || []).map((r) => 'P ≥ ' + r.precision), (k.recallAtPrecision || []).map((r) => r.recall));
  fill(charts.steps, s.steps.map((x) => x.step), s.steps.map((x) => x.p99Ms));
  const lanes = k.lanes || [];
  charts.lanes.data.labels = lanes.map((l) => 'lane ' + l.lane);
  charts.lanes.data.datasets[0].data = lanes.map((l) => l.records);
  charts.lanes.data.datasets[1].data = lanes.map((l) => l.recentRecords);
  charts.lanes.update();
  fill(charts.budget, (k.budget || []).map((a) => a.arm), (k.budget || []).map((a) => a.share));
  fill(charts.tail, s.hotspots.timeShareByStage.map((x) => x.stage), s.hotspots.timeShareByStage.map((x) => x.slowShare));
  document.body.dataset.polls = String(Number(document.body.dataset.polls || 0) + 1);
}
async function poll() {
  try {
    const response = await fetch('/status.json', { cache: 'no-store' });
    render(await response.json());
  } catch (error) {
    const updated = document.getElementById('updated');
    updated.textContent = 'cannot reach /status.json (' + error.message + '): is the run still going?';
    updated.classList.add('stale');
  }
  setTimeout(poll, POLL_MS);
}
poll();
</script>
</body>
</html>
`;
