/**
 * Shadow detectors judged against labels, without a broker: runs model-monitor with
 * MODEL_MONITOR_SHADOW_DETECTORS on a generated stream with the topology test driver, lets the lab's
 * label desk label every live mention (slow lane, flushed at the end) and a share of the shadow
 * mentions (its shadow lane) from the ground truth, and prints the shadow report (its verdicts).
 *
 *   npx tsx scripts/shadow-check.ts --events 1000000 [--seed 1001] [--fraction 0.01]
 *     [--shadows sketch-cusum@scale=1,sketch-cusum@scale=0.5] [--shadow-share 0.2] [--md out.md] [--json out.json]
 *
 * MODEL_MONITOR_* variables apply: MODEL_MONITOR_LEVEL_SCALE=2 MODEL_MONITOR_RECALIBRATE=off makes
 * live the miscalibrated one (levels ×2), so that a calibrated shadow (scale=1) is the better detector
 * and a halved one (scale=0.5) the worse.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { generateStream, type ProfileName } from '../lab/generator/index.js';
import { LabelDesk } from '../lab/labeler/label-desk.js';
import { shadowReport, shadowReportMarkdown } from '../lab/shadow-report/shadow-report.js';
import { TopologyTestDriver } from '../runtime/testing/topology-test-driver.js';
import type { Label, Mention } from '../schemas/index.js';
import { readModelMonitorConfig } from '../topologies/model-monitor/config.js';
import { parseShadowDetectors } from '../topologies/model-monitor/shadow-path.js';
import { createModelMonitor } from '../topologies/model-monitor/topology.js';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    seed: { type: 'string', default: '1001' },
    fraction: { type: 'string', default: '0.01' },
    profile: { type: 'string', default: 'default' },
    shadows: { type: 'string', default: 'sketch-cusum@scale=1,sketch-cusum@scale=0.5' },
    'shadow-share': { type: 'string', default: '0.2' },
    md: { type: 'string' },
    json: { type: 'string' },
  },
});

const started = Date.now();
const stream = generateStream({ count: Number(args.events), seed: Number(args.seed), profile: args.profile as ProfileName });
const config = readModelMonitorConfig(process.env, { sampleFraction: Number(args.fraction), shadowDetectors: parseShadowDetectors(args.shadows) });
const { topology, probe } = createModelMonitor(config);
const driver = new TopologyTestDriver(topology, 5_000);
for (const event of stream.events) driver.pipeInput(event.model_id, event, event.ts);
const result = await driver.completeAsync();
const live = result.outputs['mentions'] as Mention[];
const shadow = result.outputs['shadow'] as Mention[];
const desk = new LabelDesk({ incidents: stream.incidents, seed: Number(args.seed), capacityPerHour: Infinity, shadowShare: Number(args['shadow-share']) });
for (const m of live) desk.offer(m, 'slow');
for (const m of shadow) desk.offerShadow(m);
const labels: Label[] = desk.flush();
const report = shadowReport({ live, shadow, labels, incidents: stream.incidents, rule: { targetPrecision: config.targetPrecision } });
const markdown = shadowReportMarkdown(report);
console.log(markdown);
console.log(JSON.stringify({ events: Number(args.events), seed: Number(args.seed), level_scale: config.levelScale, recalibrate: config.recalibrate, shadows: probe.shadow(), desk: { live: desk.counts.verdicts, shadow: desk.shadowCounts }, wall_s: (Date.now() - started) / 1000 }));
if (args.md !== undefined) await writeFile(args.md, markdown);
if (args.json !== undefined) await writeFile(args.json, `${JSON.stringify(report, null, 2)}\n`);
