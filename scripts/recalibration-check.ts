/**
 * What labels do to model-monitor's levels: runs the topology on a generated stream with the topology
 * test driver (no broker, no registry) while the lab's label desk (lab/labeler/label-desk.ts) labels
 * its mentions from the ground truth, fast lane (mentions.review) and slow lane (mentions), in event
 * time, and hands each label to the topology as the runtime's label follower would. Prints precision
 * and recall (the evaluator's) over the whole run and over its second half, and the level factors.
 *
 *   npx tsx scripts/recalibration-check.ts --events 1000000 [--seed 1001] [--fraction 0.01]
 *     [--profile default] [--chunk 5000] [--json out.json]
 *
 * MODEL_MONITOR_* variables apply (MODEL_MONITOR_RECALIBRATE=off, MODEL_MONITOR_LEVEL_SCALE=0.5, …).
 * Tune on the tuning seed (1001) only; report the others as they come.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { generateStream, type ProfileName } from '../lab/generator/index.js';
import { scoreMentions } from '../lab/evaluate/score-mentions.js';
import { LabelDesk } from '../lab/labeler/label-desk.js';
import { TopologyTestDriver } from '../runtime/testing/topology-test-driver.js';
import type { Mention } from '../schemas/index.js';
import { readModelMonitorConfig } from '../topologies/model-monitor/config.js';
import { createModelMonitor } from '../topologies/model-monitor/topology.js';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    seed: { type: 'string', default: '1001' },
    fraction: { type: 'string', default: '0.01' },
    profile: { type: 'string', default: 'default' },
    chunk: { type: 'string', default: '5000' },
    json: { type: 'string' },
  },
});

const stream = generateStream({ count: Number(args.events), seed: Number(args.seed), profile: args.profile as ProfileName });
const config = readModelMonitorConfig(process.env, { sampleFraction: Number(args.fraction) });
const { topology, probe } = createModelMonitor(config);
const driver = new TopologyTestDriver(topology, 5_000);
const desk = new LabelDesk({ incidents: stream.incidents, seed: Number(args.seed) });
const labelOf = topology.kpis!.onLabel!;
const chunk = Number(args.chunk);
const mentions: Mention[] = [];
const series: { atMs: number; labels: number; scales: Record<string, number> }[] = [];
let labels = 0;
const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const started = Date.now();
const iterator = stream.events[Symbol.iterator]();
let count = 0;
for (let done = false; !done; ) {
  let lastMs = 0;
  for (let i = 0; i < chunk; i++) {
    const next = iterator.next();
    if (next.done === true) {
      done = true;
      break;
    }
    driver.pipeInput(next.value.model_id, next.value, next.value.ts);
    lastMs = next.value.ts;
    count++;
  }
  if (lastMs === 0) break;
  // The review lane gathers mentions for 100 ms of wall-clock time before it lets them go.
  await wait(150);
  const main = driver.readOutput('mentions') as Mention[];
  mentions.push(...main);
  for (const m of main) desk.offer(m, 'slow');
  for (const m of driver.readOutput('review') as Mention[]) desk.offer(m, 'fast');
  const nowMs = lastMs;
  for (const label of desk.advanceTo(nowMs)) {
    labelOf(label.mention_id, label.verdict, 0);
    labels++;
  }
  series.push({ atMs: nowMs, labels, scales: Object.fromEntries(probe.recalibration.report(0).fields.map((f) => [f.field, Number(f.scale.toFixed(3))])) });
}
await driver.completeAsync();
mentions.push(...(driver.readOutput('mentions') as Mention[]));
const truth = stream.truth();
const all = scoreMentions(mentions, truth);
const halfMs = stream.startMs + stream.spanMs / 2;
const secondHalf = scoreMentions(
  mentions.filter((m) => m.window_start >= halfMs),
  { ...truth, incidents: truth.incidents.filter((incident) => incident.start >= halfMs) },
);
const summary = {
  events: count,
  seed: Number(args.seed),
  profile: args.profile,
  recalibrate: config.recalibrate,
  level_scale: config.levelScale,
  budget_level: probe.sketch.level,
  labels: { given: labels, desk: desk.counts, join: probe.labelJoin.counts },
  whole: { mentions: all.mentions, precision: all.precision, incident_recall: all.incident_recall, episode_precision: all.episode_precision },
  second_half: { mentions: secondHalf.mentions, precision: secondHalf.precision, incident_recall: secondHalf.incident_recall, episode_precision: secondHalf.episode_precision },
  fields: probe.recalibration.report(10).fields.map((f) => ({ field: f.field, scale: f.scale, labels: f.labels, tp: f.truePositives, fp: f.falsePositives, posterior: Number(f.posteriorPrecision.toFixed(3)) })),
  wall_s: (Date.now() - started) / 1000,
};
console.log(JSON.stringify(summary, null, 2));
if (args.json !== undefined) await writeFile(args.json, JSON.stringify({ ...summary, series }, null, 2));
