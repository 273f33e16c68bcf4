/**
 * Where model-monitor loses incidents: runs the topology on a generated stream with the topology test
 * driver (no broker; the model registry on loopback; runs vary a little, see lab/evaluate/driver-run.ts)
 * and follows every incident through the signal path, stage by stage:
 *
 *   affected events in the stream → affected events sampled → reached detection → a finding over
 *   threshold on the incident's field → a dedup mention that matches it → that mention survived the
 *   evidence filter (min-evidence) → matched by the evaluator (scoreMentions, on the mentions output).
 *
 * It taps the output of every step (a pass-through step after each one), so it measures the topology
 * as it is, not a copy of it. Prints the funnel per incident kind and per segment rarity, and one line
 * per incident. Use a seed that is never evaluated (default 1001, the tuning seed's stream is larger).
 *
 *   npx tsx scripts/diagnose-recall.ts --events 200000 --fraction 0.01 [--seed 1001] [--incidents 60]
 *     [--profile default|few-hot|many-flat|noisy] [--models 50] [--sampling bandit|uniform|stratified|adaptive] [--tuning f-beta|precision] [--json out.json]
 *
 * Any MODEL_MONITOR_* variable in the environment applies as in `signalpath run model-monitor`.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { tap } from 'rxjs';
import { generateStream, PROFILE_NAMES, type ProfileName } from '../lab/generator/index.js';
import { scoreMentions } from '../lab/evaluate/score-mentions.js';
import { startModelRegistry } from '../lab/model-registry/index.js';
import type { Envelope } from '../core/envelope.js';
import { TopologyTestDriver } from '../runtime/testing/topology-test-driver.js';
import type { NamedStep, Topology } from '../runtime/topology.js';
import type { InferenceEvent, Mention } from '../schemas/index.js';
import { readModelMonitorConfig, type ModelMonitorConfig } from '../topologies/model-monitor/config.js';
import { createModelMonitor } from '../topologies/model-monitor/topology.js';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    fraction: { type: 'string', default: '0.01' },
    seed: { type: 'string', default: '1001' },
    incidents: { type: 'string' },
    profile: { type: 'string', default: 'default' },
    models: { type: 'string' },
    sampling: { type: 'string' },
    tuning: { type: 'string' },
    json: { type: 'string' },
    quiet: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (args.help) {
  // The options above, with what they default to; keep the two together.
  console.log(`usage: npx tsx scripts/diagnose-recall.ts [--events 200000] [--fraction 0.01] [--seed 1001] [--incidents N]
  [--profile ${PROFILE_NAMES.join('|')}] [--models N] [--sampling bandit|uniform|stratified|adaptive] [--tuning f-beta|precision] [--json out.json] [--quiet]
Follows every incident through model-monitor's signal path (affected → sampled → detected → over threshold →
dedup mention → evidence → matched) on the topology test driver; MODEL_MONITOR_* variables apply.`);
  process.exit(0);
}
if (!(PROFILE_NAMES as readonly string[]).includes(args.profile)) {
  console.error(`--profile ${args.profile}: expected one of ${PROFILE_NAMES.join(', ')}`);
  process.exit(2);
}

/** The stages, in the order the topology passes them. */
const STAGES = ['affected', 'sampled', 'detected', 'over-threshold', 'dedup-mention', 'evidence', 'matched'] as const;
type Stage = (typeof STAGES)[number];

interface Incident {
  readonly id: string;
  readonly kind: string;
  readonly model_id: string;
  readonly segment: string;
  readonly field: string;
  readonly direction: string;
  readonly start: number;
  readonly end: number;
}

interface IncidentFunnel {
  readonly id: string;
  readonly kind: string;
  readonly rarity: 'rare' | 'common';
  readonly model_id: string;
  readonly segment: string;
  readonly field: string;
  /** Affected events (or mentions, for the last three stages) that reached each stage. */
  readonly counts: Record<Stage, number>;
  /** The first stage that nothing of it reached, or null when the evaluator matched it. */
  readonly lostAt: Stage | null;
}

const SLACK_MS = 60_000;
const overlaps = (m: Mention, i: Incident): boolean =>
  m.model_id === i.model_id && m.segment === i.segment && m.field === i.field && m.window_start < i.end + SLACK_MS && m.window_end > i.start - SLACK_MS;

/** `topology` with a pass-through step after each named step, calling `seen(stepName, value)`. */
function tapped<T>(topology: Topology<T>, seen: (step: string, value: unknown) => void): Topology<T> {
  const chain: NamedStep[] = topology.chain.flatMap((step) => [
    step,
    { name: `tap-${step.name}`.slice(0, 63), build: () => tap((envelope: unknown) => seen(step.name, (envelope as Envelope<unknown>).value)) },
  ]);
  return { ...topology, chain };
}

async function diagnoseRecall(options: {
  events: number;
  seed: number;
  sampleFraction: number;
  incidents?: number;
  models?: number;
  profile: ProfileName;
  overrides?: Partial<ModelMonitorConfig>;
}): Promise<{ funnels: IncidentFunnel[]; sampled: number; byArm: Record<string, number>; findingsByArm: Record<string, number>; mentions: number; precision: number; recall: number; observableRecall: number; episodePrecision: number; episodes: number; trueMentionsPer10k: number }> {
  const registry = await startModelRegistry({ errorRate: 0 });
  try {
    const stream = generateStream({
      count: options.events,
      seed: options.seed,
      profile: options.profile,
      ...(options.incidents === undefined ? {} : { incidents: options.incidents }),
      ...(options.models === undefined ? {} : { models: options.models }),
    });
    const config = readModelMonitorConfig(process.env, { registryUrl: registry.url, sampleFraction: options.sampleFraction, ...options.overrides });
    const { topology, probe } = createModelMonitor(config);
    const incidents = stream.incidents as readonly Incident[];
    const byCell = new Map<string, Incident[]>();
    for (const incident of incidents) {
      const key = `${incident.model_id}|${incident.segment}`;
      byCell.set(key, [...(byCell.get(key) ?? []), incident]);
    }
    const rareSegments = new Map<string, boolean>();
    // Affected event ids per incident, learnt from the ground truth's event times as events stream by.
    const affectedIds = new Map<string, string>(); // event id → incident id
    const counts = new Map<string, Record<Stage, number>>(incidents.map((i) => [i.id, Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>]));
    const bump = (incidentId: string, stage: Stage): void => {
      counts.get(incidentId)![stage]++;
    };
    const eventOf = (value: unknown): InferenceEvent | undefined => {
      const v = value as { record?: { event?: InferenceEvent }; event?: InferenceEvent; model_id?: string };
      return v.record?.event ?? v.event;
    };
    const driver = new TopologyTestDriver(
      tapped(topology, (step, value) => {
        switch (step) {
          case 'sample': {
            const id = affectedIds.get(eventOf(value)!.event_id);
            if (id !== undefined) bump(id, 'sampled');
            return;
          }
          case 'partition-by-model': {
            const id = affectedIds.get((value as InferenceEvent).event_id);
            if (id !== undefined) bump(id, 'detected');
            return;
          }
          case 'apply-thresholds': {
            const detection = value as { event: InferenceEvent; findings: { field: string; shadow: boolean }[] };
            const id = affectedIds.get(detection.event.event_id);
            if (id === undefined) return;
            const incident = incidents.find((i) => i.id === id)!;
            if (detection.findings.some((f) => !f.shadow && f.field === incident.field)) bump(id, 'over-threshold');
            return;
          }
          case 'dedup':
            for (const incident of incidents) if (overlaps(value as Mention, incident)) bump(incident.id, 'dedup-mention');
            return;
          case 'min-evidence':
            for (const incident of incidents) if (overlaps(value as Mention, incident)) bump(incident.id, 'evidence');
            return;
        }
      }),
      5_000,
    );
    // The ground truth knows affected events by time only after the stream has run; replay the
    // incident effect check instead: an event of an incident's cell inside its span is affected when
    // the generator reports its event time (recorded after the run) — so generate once first.
    const events = [...stream.events];
    const truth = stream.truth();
    const affectedTs = new Map(truth.incidents.map((i) => [i.id, new Set(i.affected_ts)]));
    for (const event of events) {
      for (const incident of byCell.get(`${event.model_id}|${event.segment}`) ?? []) {
        if (affectedTs.get(incident.id)!.has(event.ts)) {
          affectedIds.set(event.event_id, incident.id);
          bump(incident.id, 'affected');
          break;
        }
      }
    }
    for (const model of new Set(incidents.map((i) => i.model_id))) {
      const bySegment = new Map<string, number>();
      let total = 0;
      for (const e of events) {
        if (e.model_id !== model) continue;
        total++;
        bySegment.set(e.segment, (bySegment.get(e.segment) ?? 0) + 1);
      }
      for (const [segment, n] of bySegment) rareSegments.set(`${model}|${segment}`, n / total < 0.025);
    }
    // In batches, yielding between them, as a consumer's poll loop does: enrichment is asynchronous, so
    // piping everything at once would hold every record in the enrich step until the input ends.
    for (let i = 0; i < events.length; i += 500) {
      driver.pipe(events.slice(i, i + 500).map((event) => ({ key: event.model_id, value: event, eventTimeMs: event.ts })));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const result = await driver.completeAsync();
    const mentions = result.outputs['mentions'] as Mention[];
    const score = scoreMentions(mentions, truth, { slackMs: SLACK_MS });
    const funnels = incidents.map((incident): IncidentFunnel => {
      const c = counts.get(incident.id)!;
      c.matched = score.per_incident.find((p) => p.id === incident.id)!.matched_mentions;
      return {
        id: incident.id,
        kind: incident.kind,
        rarity: rareSegments.get(`${incident.model_id}|${incident.segment}`) ? 'rare' : 'common',
        model_id: incident.model_id,
        segment: incident.segment,
        field: incident.field,
        counts: c,
        lostAt: STAGES.find((s) => c[s] === 0) ?? null,
      };
    });
    return {
      funnels,
      sampled: probe.sampled,
      byArm: Object.fromEntries(probe.sampledByArm),
      findingsByArm: Object.fromEntries(probe.findingsByArm),
      mentions: mentions.length,
      precision: score.precision,
      recall: score.incident_recall,
      observableRecall: score.observable_recall,
      episodePrecision: score.episode_precision,
      episodes: score.episodes,
      trueMentionsPer10k: score.true_mentions_per_10k,
    };
  } finally {
    await registry.stop();
  }
}

/** Incidents that reached each stage (at least one affected event / mention), per group. */
function funnelTable(funnels: readonly IncidentFunnel[], groupOf: (f: IncidentFunnel) => string): string[] {
  const groups = [...new Set(funnels.map(groupOf))].sort();
  const lines = [`| group | n | ${STAGES.join(' | ')} |`, `|---|---|${STAGES.map(() => '---').join('|')}|`];
  for (const group of [...groups, 'all']) {
    const members = funnels.filter((f) => group === 'all' || groupOf(f) === group);
    lines.push(`| ${group} | ${members.length} | ${STAGES.map((s) => members.filter((f) => f.counts[s] > 0).length).join(' | ')} |`);
  }
  return lines;
}

{
  const startedAt = Date.now();
  const outcome = await diagnoseRecall({
    events: Number(args.events),
    seed: Number(args.seed),
    profile: args.profile as ProfileName,
    sampleFraction: Number(args.fraction),
    ...(args.incidents === undefined ? {} : { incidents: Number(args.incidents) }),
    ...(args.models === undefined ? {} : { models: Number(args.models) }),
    overrides: {
      ...(args.sampling === undefined ? {} : { sampling: args.sampling as ModelMonitorConfig['sampling'] }),
      ...(args.tuning === undefined ? {} : { thresholdTuning: args.tuning as ModelMonitorConfig['thresholdTuning'] }),
    },
  });
  const { funnels } = outcome;
  console.log(`events ${args.events}, seed ${args.seed}, profile ${args.profile}, budget ${args.fraction}, sampling ${args.sampling ?? 'env/default'}: sampled ${outcome.sampled}, mentions ${outcome.mentions}, incident recall ${(100 * outcome.recall).toFixed(1)} % (observable ${(100 * outcome.observableRecall).toFixed(1)} %), precision ${(100 * outcome.precision).toFixed(1)} %, per episode ${(100 * outcome.episodePrecision).toFixed(1)} % of ${outcome.episodes}, true mentions ${outcome.trueMentionsPer10k.toFixed(2)} per 10k (${((Date.now() - startedAt) / 1000).toFixed(0)} s)`);
  console.log(`sampled by arm ${JSON.stringify(outcome.byArm)}, records with a finding by arm ${JSON.stringify(outcome.findingsByArm)}`);
  const sum = (stage: Stage): number => funnels.reduce((n, f) => n + f.counts[stage], 0);
  const rareSum = (stage: Stage): number => funnels.filter((f) => f.rarity === 'rare').reduce((n, f) => n + f.counts[stage], 0);
  console.log(`affected events: ${sum('affected')} → sampled ${sum('sampled')} (${((100 * sum('sampled')) / Math.max(1, sum('affected'))).toFixed(1)} %) → over threshold ${sum('over-threshold')}; in rare segments ${rareSum('affected')} → ${rareSum('sampled')} (${((100 * rareSum('sampled')) / Math.max(1, rareSum('affected'))).toFixed(1)} %) → ${rareSum('over-threshold')}`);
  console.log('\nIncidents reaching each stage, by kind:');
  for (const line of funnelTable(funnels, (f) => f.kind)) console.log(line);
  console.log('\nBy segment rarity (rare: < 2.5 % of its model):');
  for (const line of funnelTable(funnels, (f) => f.rarity)) console.log(line);
  if (!args.quiet) {
    console.log('\nPer incident (counts: affected events → sampled → detected → over threshold; mentions → after evidence → matched):');
    for (const f of funnels) console.log(`${f.id.padEnd(12)} ${f.kind.padEnd(17)} ${f.rarity.padEnd(6)} ${`${f.model_id}/${f.segment}/${f.field}`.padEnd(40)} ${STAGES.map((s) => f.counts[s]).join(' → ')}  lost at: ${f.lostAt ?? '-'}`);
  }
  if (args.json !== undefined) await writeFile(args.json, JSON.stringify(outcome, null, 2));
}
