/**
 * The study's KPIs on a running model-monitor, against the real broker: generated events with
 * incidents flow through the topology (model registry over HTTP, a stand-in cost meter), labels for
 * its mentions arrive on the labels topic, and
 * - `/metrics` exports every KPI (mention rate per events and per spend, labels → precision, recall at
 *   precision, feedback latency, cache hit ratio, lane load, bandit budget) and moves as labels flow;
 * - every metric the Grafana dashboard queries is among them;
 * - the status page `/status` renders those KPIs in headless Chromium (with chart.js served by the
 *   runner), and a screenshot is written for people to look at (STATUS_SCREENSHOT, default in the OS
 *   temporary folder).
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { generateStream } from '../../lab/generator/index.js';
import { startModelRegistry } from '../../lab/model-registry/index.js';
import { readMentions } from '../../lab/evaluate/index.js';
import { ensureTopics } from '../../runtime/kafka/admin.js';
import { writeTopic } from '../../runtime/kafka/topic-writer.js';
import { runTopology } from '../../runtime/runner.js';
import type { CapturedSummary } from '../../runtime/telemetry/hotspots.js';
import { InferenceEventContract, LabelContract, type Label } from '../../schemas/index.js';
import { readModelMonitorConfig } from '../../topologies/model-monitor/config.js';
import { createModelMonitor } from '../../topologies/model-monitor/topology.js';
import { sharedBroker, uniqueName } from '../support/broker.js';
import { freePort, sleep, testRunConfig } from '../support/kafka-fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/**
 * Checks the Prometheus text exposition format line by line (# HELP / # TYPE before each family,
 * `name{label="value",…} number`) and returns the sample names. Throws naming the first bad line.
 */
function parsePrometheusText(text: string): Set<string> {
  const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$/;
  const typed = new Map<string, string>();
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      typed.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const match = sampleLine.exec(line);
    if (!match) throw new Error(`not Prometheus text: ${JSON.stringify(line)}`);
    const family = match[1]!.replace(/_(bucket|sum|count)$/, '');
    if (!typed.has(match[1]!) && typed.get(family) !== 'histogram') throw new Error(`sample before its # TYPE line: ${line}`);
    names.add(match[1]!);
  }
  return names;
}

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 90_000, state?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${state === undefined ? '' : ` (${state()})`}`);
    await sleep(200);
  }
}

describe('integration: KPIs, dashboard metrics and the status page', function () {
  this.timeout(420_000);

  it('a running model-monitor exports the study KPIs, the dashboard finds all its metrics, the status page shows them', async function () {
    if (!existsSync(CHROMIUM)) {
      console.warn(`      skipped: ${CHROMIUM} is absent (CI installs it; locally: npm run setup -- --with-browser)`);
      this.skip();
    }
    const brokers = (await sharedBroker()).brokers;
    const registry = await startModelRegistry({ seed: 3 });
    const input = uniqueName('kpi-in');
    const mentionsTopic = uniqueName('kpi-mentions');
    const labelsTopic = uniqueName('kpi-labels');
    const count = 40_000;
    const stream = generateStream({ count, seed: 11, models: 8, incidents: 6, eventsPerSecond: 10 });
    await ensureTopics(brokers, [{ topic: input, partitions: 4 }]);
    await writeTopic(stream.events, { brokers, topic: input, contract: InferenceEventContract });

    // A stand-in for the lab's cost meter: $0.0001 per event the topology validated.
    const spend = { spendUsd: () => probe.validated * 0.0001 };
    const { topology, probe } = createModelMonitor(readModelMonitorConfig({}, { registryUrl: registry.url, labelsTopic }), { spend });
    const port = await freePort();
    const logs: string[] = [];
    const hotspotsFile = path.join(mkdtempSync(path.join(tmpdir(), 'signalpath-kpis-')), 'hotspots.jsonl');
    const running = await runTopology(
      topology,
      testRunConfig(brokers, {
        group: uniqueName('kpi'),
        topics: { input, mentions: mentionsTopic, review: `${mentionsTopic}.review`, dlq: `${mentionsTopic}.dlq` },
        untilIdleMs: 600_000,
        metricsPort: port,
        maxUnsettled: 100_000,
        partitionHighWater: 50_000,
        partitionIdleTimeoutMs: 2_000,
        allowedLatenessMs: 5_000,
        hotspotsFile,
        log: (message) => logs.push(message),
      }),
    );
    const base = `http://127.0.0.1:${port}`;
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    try {
      // The last dedup windows stay open while the run goes on (the watermark waits for more input):
      // what has been emitted by the time every event is consumed is what is on the topic.
      await until('every event consumed', () => running.stats().consumed === count);
      let onTopic = 0;
      await until(
        'mentions delivered',
        async () => {
          onTopic = (await readMentions(brokers, mentionsTopic)).length;
          return running.telemetry!.kpis.mentions > 0 && onTopic === running.telemetry!.kpis.mentions;
        },
        // Generous: on a loaded CI machine this once did not settle within 90 s (cause not found; the
        // state printed on a timeout is there to find it).
        180_000,
        () => `KPI mentions ${running.telemetry!.kpis.mentions}, on the topic ${onTopic}, model-monitor emitted ${probe.mentions}, sampled ${probe.sampled} (${probe.lateAtSampler} late at the sampler, ${running.stats().late} at the source), consumed ${running.stats().consumed}; log: ${logs.slice(-5).join(' | ')}`,
      );
      const before = await (await fetch(`${base}/metrics`)).text();
      const mentions = await readMentions(brokers, mentionsTopic);
      const emitted = sample(before, 'signalpath_kpi_mentions_total{topology="model-monitor"}')!;
      expect(emitted).to.equal(mentions.length);
      expect(sample(before, 'signalpath_kpi_events_total{topology="model-monitor"}')).to.equal(count);
      expect(sample(before, 'signalpath_kpi_mentions_per_10k_events{topology="model-monitor"}')).to.be.closeTo((mentions.length / count) * 10_000, 1e-9);
      expect(sample(before, 'signalpath_kpi_mentions_per_1k_usd{topology="model-monitor"}')).to.be.closeTo((mentions.length / spend.spendUsd()) * 1000, 1e-6);
      expect(sample(before, 'signalpath_kpi_labels_total{topology="model-monitor",verdict="TRUE_POSITIVE"}')).to.equal(0);
      const hitRatio = sample(before, 'signalpath_kpi_cache_hit_ratio{topology="model-monitor"}')!;
      expect(hitRatio).to.be.closeTo((probe.enrich.hits + probe.enrich.staleHits) / (probe.enrich.hits + probe.enrich.staleHits + probe.enrich.misses), 1e-9);
      const laneRecords = probe.partition.lanes().reduce((n, lane) => n + lane.records, 0);
      expect(laneRecords).to.be.greaterThan(0);
      expect([0, 1, 2, 3].reduce((n, lane) => n + (sample(before, `signalpath_kpi_lane_records_total{topology="model-monitor",lane="${lane}"}`) ?? 0), 0)).to.equal(laneRecords);
      expect(before).to.match(/^signalpath_kpi_budget_share\{topology="model-monitor",arm="adaptive"\} /m);

      // Labels arrive: the highest-scored half true, the rest false.
      const ranked = [...mentions].sort((a, b) => b.score - a.score);
      const truths = Math.ceil(ranked.length / 2);
      const labels: Label[] = ranked.map((m, i) => ({ mention_id: m.mention_id, labeled_at: Date.now(), verdict: i < truths ? 'TRUE_POSITIVE' : 'FALSE_POSITIVE', labeler: 'test', note: null }));
      await writeTopic(labels, { brokers, topic: labelsTopic, contract: LabelContract });
      await until('labels matched', () => {
        const verdicts = running.telemetry!.kpis.feedback!.verdicts;
        return verdicts.TRUE_POSITIVE + verdicts.FALSE_POSITIVE === labels.length;
      });
      const after = await (await fetch(`${base}/metrics`)).text();
      expect(sample(after, 'signalpath_kpi_labels_total{topology="model-monitor",verdict="TRUE_POSITIVE"}')).to.equal(truths);
      expect(sample(after, 'signalpath_kpi_precision{topology="model-monitor"}')).to.be.closeTo(truths / labels.length, 1e-9);
      // Scores rank the true ones first (ties aside): a cut-off keeps them all at precision ≥ 0.9.
      const topScoreTies = ranked.filter((m) => m.score === ranked[truths - 1]!.score).length;
      if (topScoreTies === 1) expect(sample(after, 'signalpath_kpi_recall_at_precision{topology="model-monitor",precision="0.9"}')).to.equal(1);
      expect(sample(after, 'signalpath_kpi_feedback_latency_seconds_count{topology="model-monitor"}')).to.equal(labels.length);

      // Every metric the Grafana dashboard queries is exported by this run.
      const exported = parsePrometheusText(after);
      const dashboard = readFileSync(new URL('../../dashboards/signalpath.json', import.meta.url), 'utf8');
      const queried = new Set(dashboard.match(/\bsignalpath_[a-z0-9_]+/g));
      const missing = [...queried].filter((name) => !exported.has(name) && !exported.has(`${name}_bucket`));
      // The spike gauge appears only after a latency spike has recovered in this run.
      expect(missing.filter((name) => name !== 'signalpath_kpi_tail_recovery_seconds'), 'dashboard metrics missing from /metrics').to.deep.equal([]);

      // The status page, in headless Chromium.
      const page = await browser.newPage({ viewport: { width: 1400, height: 1800 } });
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`${base}/status`);
      // (Browser-side code as strings: the project's TypeScript has no DOM types.)
      await page.waitForFunction('Number(document.body.dataset.polls || 0) >= 2', undefined, { timeout: 30_000 });
      const tile = (kpi: string): Promise<string> => page.locator(`[data-kpi="${kpi}"]`).innerText();
      expect(await page.locator('#topology').innerText()).to.equal('model-monitor');
      expect(Number(await tile('mentionsPer10kEvents'))).to.be.closeTo((mentions.length / count) * 10_000, 0.01);
      expect(await tile('precision')).to.equal(`${((truths / labels.length) * 100).toFixed(1)}%`);
      expect(await tile('cacheHitRatio')).to.equal(`${(hitRatio * 100).toFixed(1)}%`);
      expect(await tile('mentionsPer1kUsd')).to.match(/^\d+\.\d\d$/);
      expect(await tile('feedbackLatencyP50Seconds')).to.match(/^\d+\.\d s$/);
      expect(await tile('e2eP99Ms')).to.match(/^\d+\.\d ms$/);
      expect(await tile('lag')).to.equal('0');
      // The charts drew (chart.js came from the runner, not the network).
      const drawn = (await page.evaluate('Object.values(Chart.instances).map((chart) => chart.data.labels.length)')) as number[];
      expect(drawn).to.have.length(6);
      expect(drawn.every((labels) => labels > 0), `chart label counts ${drawn.join(', ')}`).to.equal(true);
      expect(errors).to.deep.equal([]);
      const screenshot = process.env.STATUS_SCREENSHOT ?? path.join(tmpdir(), 'signalpath-status.png');
      await page.screenshot({ path: screenshot, fullPage: true });
      expect((await fetch(`${base}/status.json`)).headers.get('content-type')).to.equal('application/json');
    } catch (error) {
      console.error(`      runner log:\n${logs.map((line) => `        ${line}`).join('\n')}`);
      throw error;
    } finally {
      await browser.close();
      await running.stop();
      await registry.stop();
    }
    // Captured records carry what model-monitor's steps noted: the lane and the cache outcome of
    // records that reached partition-by-model (the sampled ones), the hotspot stage of every one.
    const captured = readFileSync(hotspotsFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as CapturedSummary);
    expect(captured.length).to.be.greaterThan(0);
    expect(captured.every((c) => topology.chain.some((step) => step.name === c.hotspot) || c.hotspot === 'sink')).to.equal(true);
    const noted = captured.filter((c) => c.notes['lane'] !== undefined);
    expect(noted.length, 'captured records with a lane note').to.be.greaterThan(0);
    for (const c of noted) {
      expect(c.notes['lane']).to.be.within(0, 3);
      expect(['hit', 'stale-hit', 'miss', 'not-found', 'miss-failed']).to.include(c.notes['cache']);
      expect(c.notes['enrich_retries']).to.be.a('number');
    }
  });
});
