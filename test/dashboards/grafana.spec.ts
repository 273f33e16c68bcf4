/**
 * dashboards/signalpath.json, checked structurally: it parses as a Grafana dashboard, its rows come in
 * the order the study recommends, the panels tile a 24-column grid, and every PromQL query names only
 * metrics the runtime exports (those of a topology that declares every KPI source and has a stateful
 * windowed dedup, plus the source gauges and state metrics the runner adds) — so a renamed metric
 * fails here instead of leaving an empty panel.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { TopologyTelemetry } from '../../runtime/telemetry/topology-telemetry.js';
import { dedupMetrics } from '../../runtime/telemetry/dedup-metrics.js';
import { StepStates } from '../../runtime/state/step-states.js';
import { DedupCounters } from '../../operators/windowed-dedup.js';
import { readModelMonitorConfig } from '../../topologies/model-monitor/config.js';
import { createModelMonitor } from '../../topologies/model-monitor/topology.js';

interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly targets?: readonly { readonly expr: string; readonly refId: string }[];
}

const dashboard = JSON.parse(readFileSync(new URL('../../dashboards/signalpath.json', import.meta.url), 'utf8')) as { title: string; uid: string; panels: Panel[]; templating: { list: { name: string }[] } };

async function exportedSeries(): Promise<Set<string>> {
  const telemetry = new TopologyTelemetry({
    topology: 't',
    stepNames: ['a'],
    maxUnsettled: 10,
    kpis: {
      mentionOutputs: ['mentions'],
      mentionOf: () => ({ id: 'm', score: 1 }),
      labelsTopic: 'labels',
      spend: { spendUsd: () => 1 },
      cache: () => ({ hits: 1, misses: 1 }),
      lanes: () => [{ lane: 0, records: 1, busyMs: 1, queued: 0 }],
      budget: () => [{ arm: 'uniform', share: 1, records: 1 }],
    },
  });
  telemetry.addSourceGauges(() => ({ '0': 0 }), () => 0);
  // A topology with a stateful windowed dedup: the runner adds the state metrics, the topology its dedup counters.
  telemetry.addStateMetrics(new StepStates({ namespace: 't', brokers: '127.0.0.1:9', log: () => {}, write: () => {} }));
  telemetry.addTopologyGauges(dedupMetrics('dedup', new DedupCounters()));
  // model-monitor's own gauges (enrich breaker, recalibration of the sketch's levels).
  const modelMonitorGauges = createModelMonitor(readModelMonitorConfig({})).topology.gauges ?? [];
  telemetry.addTopologyGauges(modelMonitorGauges.filter((gauge) => !gauge.name.startsWith('signalpath_dedup_')));
  const names = new Set<string>();
  for (const metric of await telemetry.registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
  }
  await telemetry.close();
  return names;
}

describe('dashboards: Grafana (dashboards/signalpath.json)', () => {
  it('is laid out as the study recommends: mention rate per cost, recall/precision, feedback latency, tail latency by step, lane load', () => {
    expect(dashboard.uid).to.equal('signalpath-kpis');
    const rows = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title.toLowerCase());
    const expected = [/mention rate per cost/, /recall/, /feedback/, /tail latency by step/, /lane load/];
    expect(rows.length).to.be.at.least(expected.length);
    expected.forEach((pattern, i) => expect(rows[i]).to.match(pattern));
    expect(dashboard.templating.list.map((v) => v.name)).to.include.members(['datasource', 'topology']);
  });

  it('tiles a 24-column grid with unique panel ids, every panel with a query', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).to.equal(ids.length);
    for (const panel of dashboard.panels) {
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).to.be.at.most(24);
      if (panel.type === 'row') continue;
      expect(panel.targets, panel.title).to.have.length.greaterThan(0);
    }
    // No two panels overlap.
    const cells = new Set<string>();
    for (const { gridPos: g, title } of dashboard.panels) {
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(cells.has(`${x},${y}`), `${title} overlaps another panel at ${x},${y}`).to.equal(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  it('queries only metrics the runtime exports', async () => {
    const exported = await exportedSeries();
    let queried = 0;
    for (const panel of dashboard.panels) {
      for (const target of panel.targets ?? []) {
        const names = target.expr.match(/\bsignalpath_[a-z0-9_]+/g) ?? [];
        expect(names, `${panel.title} ${target.refId} names a signalpath metric`).to.have.length.greaterThan(0);
        for (const name of names) expect(exported.has(name), `${panel.title}: ${name} is not exported`).to.equal(true);
        // Balanced brackets: a typo'd query would not parse in Grafana.
        for (const [open, close] of ['()', '{}', '[]']) expect(target.expr.split(open!).length, target.expr).to.equal(target.expr.split(close!).length);
        queried += names.length;
      }
    }
    expect(queried).to.be.greaterThan(20);
  });
});
