/**
 * The change sketch's own episodes on a generated stream, classified against the ground truth: no
 * topology, no sampler, no dedup — the sketch (SketchTable) as model-monitor configures it, on every
 * record. Each episode (key × field × direction, from the record that crosses h to the one that falls
 * back) is true when an incident of the same model, segment and field overlaps it within the slack;
 * a false one is classified by what the truth says happened then: a slow burst or an outage of its
 * model (the `noise` of the truth), a stream gap, or nothing; by how many segments of its model
 * alarmed the same field and direction within a minute of its start; by its length; and by the
 * phase of the profile's cycle.
 *
 *   nice -n 10 npx tsx scripts/diagnose-sketch-episodes.ts --profile noisy --seed 1001 --events 200000 [--list 20]
 *
 * MODEL_MONITOR_* variables apply (fields, budget, MODEL_MONITOR_SKETCH_PEER_WINDOW_MS, …_MIN_EPISODE_MS).
 *
 * Fast (seconds): for diagnosing the sketch, not for the figures a user sees (scripts/profile-matrix.ts).
 */
import { parseArgs } from 'node:util';
import { generateStream, streamShape, type ProfileName } from '../lab/generator/index.js';
import { readModelMonitorConfig } from '../topologies/model-monitor/config.js';
import { SketchTable } from '../operators/change-sketch/sketch-table.js';
import { sketchFieldReader, sketchTransformOf } from '../topologies/model-monitor/sketch-evidence.js';

const { values: args } = parseArgs({
  options: {
    profile: { type: 'string', default: 'noisy' },
    seed: { type: 'string', default: '1001' },
    events: { type: 'string', default: '200000' },
    slack: { type: 'string', default: '60000' },
    list: { type: 'string', default: '0' },
  },
});

const profile = args.profile as ProfileName;
const shape = streamShape(profile);
const slackMs = Number(args.slack);
const config = readModelMonitorConfig(process.env, {});
const stream = generateStream({ count: Number(args.events), seed: Number(args.seed), profile });
// As the topology configures it (topology.ts, step 'sketch').
const table = new SketchTable({ fields: config.fields, transforms: config.fields.map(sketchTransformOf), level: { falseAlarmsPerHour: config.falseAlarmsPerHour }, maxKeys: config.sketchMaxKeys, relativeToFallback: config.sketchRelative, peerWindowMs: config.sketchPeerWindowMs, minEpisodeMs: config.sketchMinEpisodeMs });
const readers = config.fields.map(sketchFieldReader);
const values = new Float64Array(readers.length);

interface Episode {
  model: string;
  segment: string;
  field: string;
  direction: 'up' | 'down';
  start: number;
  end: number;
  scope: 'segment' | 'model';
}
const open = new Map<string, Episode>();
const episodes: Episode[] = [];
let firstMs = NaN;
let records = 0;
for (const event of stream.events) {
  if (Number.isNaN(firstMs)) firstMs = event.ts;
  records++;
  for (let i = 0; i < readers.length; i++) values[i] = readers[i]!(event) ?? NaN;
  const verdict = table.update(`${event.model_id}\u0000${event.segment}`, event.model_id, event.ts, values);
  const now = new Set<string>();
  for (const alarm of verdict.alarms) {
    const scope = 'segment' as Episode['scope'];
    const segment = scope === 'model' ? '*' : event.segment;
    const id = `${event.model_id}|${segment}|${alarm.field}|${alarm.direction}`;
    now.add(id);
    if (!open.has(id)) {
      const episode: Episode = { model: event.model_id, segment, field: alarm.field, direction: alarm.direction, start: event.ts, end: event.ts, scope };
      open.set(id, episode);
      episodes.push(episode);
    } else open.get(id)!.end = event.ts;
  }
  // An episode of this record's key (or model) that is not alarmed on it any more has ended.
  for (const [id, episode] of open) {
    if (now.has(id) || episode.model !== event.model_id) continue;
    if (episode.segment !== '*' && episode.segment !== event.segment) continue;
    open.delete(id);
  }
}
const truth = stream.truth();
const incidents = truth.incidents;
const noise = truth.noise ?? [];
const isTrue = (e: Episode): boolean =>
  incidents.some((i) => i.model_id === e.model && (e.segment === '*' || i.segment === e.segment) && i.field === e.field && e.start < i.end + slackMs && e.end >= i.start - slackMs);
const cause = (e: Episode): string => {
  const hit = noise.find((n) => (n.model_id === undefined || n.model_id === e.model) && e.start < n.end + slackMs && e.end >= n.start - slackMs);
  return hit === undefined ? 'none' : hit.kind;
};
const phase = (ms: number): string => {
  const p = (((ms - firstMs) % shape.dayMs) + shape.dayMs) % shape.dayMs / shape.dayMs;
  return `q${Math.floor(p * 4)}`;
};
const peers = (e: Episode): number =>
  new Set(episodes.filter((o) => o.model === e.model && o.field === e.field && o.direction === e.direction && Math.abs(o.start - e.start) <= 60_000).map((o) => o.segment)).size;
const duration = (e: Episode): string => {
  const m = (e.end - e.start) / 60_000;
  return m < 1 ? '<1m' : m < 5 ? '1-5m' : m < 15 ? '5-15m' : m < 60 ? '15-60m' : '>=60m';
};
const tally = (list: Episode[], by: (e: Episode) => string): string =>
  [...list.reduce((m, e) => m.set(by(e), (m.get(by(e)) ?? 0) + 1), new Map<string, number>())].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
const falses = episodes.filter((e) => !isTrue(e));
const trues = episodes.filter(isTrue);
const detected = incidents.filter((i) => episodes.some((e) => e.model === i.model_id && (e.segment === '*' || e.segment === i.segment) && e.field === i.field && e.start < i.end + slackMs && e.end >= i.start - slackMs));
const spanH = (stream.truth().run as unknown as { span_ms?: number }).span_ms;
console.log(`${profile} seed ${args.seed}, ${records} events${spanH ? `, ${(spanH / 3_600_000).toFixed(2)} h` : ''}; level h = ${table.level.toFixed(2)}`);
console.log(`episodes ${episodes.length}: true ${trues.length}, false ${falses.length} (episode precision ${(trues.length / Math.max(1, episodes.length) * 100).toFixed(1)} %); incidents detected ${detected.length}/${incidents.length} (observable ≥ 5: ${incidents.filter((i) => i.affected_events >= 5 && detected.includes(i)).length}/${incidents.filter((i) => i.affected_events >= 5).length})`);
console.log(`sketch counts: ${JSON.stringify(table.counts)}`);
console.log(`false by field/direction: ${tally(falses, (e) => `${e.field} ${e.direction}`)}`);
console.log(`false by scope: ${tally(falses, (e) => e.scope)}`);
console.log(`false by noise in the truth: ${tally(falses, cause)}`);
console.log(`false by segments of the model alarming alike within 1 min: ${tally(falses, (e) => String(peers(e)))}`);
console.log(`false by duration: ${tally(falses, duration)}`);
console.log(`false by cycle quarter: ${tally(falses, (e) => phase(e.start))}`);
console.log(`true by duration: ${tally(trues, duration)}`);
const missed = incidents.filter((i) => !detected.includes(i));
console.log(`missed: ${missed.map((i) => `${i.kind} ${i.field} ${i.segment} ${i.severity_sigma?.toFixed(1) ?? ''}σ ${((i.end - i.start) / 60_000).toFixed(0)}m n=${i.affected_events}`).join('; ')}`);
for (const e of falses.slice(0, Number(args.list))) console.log(`  ${e.model} ${e.segment} ${e.field} ${e.direction} ${new Date(e.start).toISOString()} ${((e.end - e.start) / 1000).toFixed(0)} s ${cause(e)} peers ${peers(e)}`);
