/**
 * model-monitor's feedback loop: labels join their mentions by mention_id (label-join.ts) and move
 * the change sketch's levels (recalibration.ts). On the topology test driver with a hand-built
 * stream (event time explicit) and hand-built labels; the rule's invariants as properties.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { OperatorStateHandle } from '../../core/state.js';
import { TopologyTestDriver } from '../../runtime/testing/topology-test-driver.js';
import type { InferenceEvent, Mention } from '../../schemas/index.js';
import { readModelMonitorConfig, type ModelMonitorConfig } from '../../topologies/model-monitor/config.js';
import { LabelJoin, type AwaitedMention } from '../../topologies/model-monitor/label-join.js';
import { applyLabel, LevelRecalibrator, newCell, type RecalibrationRule } from '../../topologies/model-monitor/recalibration.js';
import { modelMonitorReport } from '../../topologies/model-monitor/run-report.js';
import { createModelMonitor } from '../../topologies/model-monitor/topology.js';
import { oneKeyStream } from '../support/monitor-stream.js';

const RULE: RecalibrationRule = { targetPrecision: 0.95, priorLabels: 10, memoryLabels: 50, raiseFactor: 1.1, lowerFactor: 1.05, floor: 1, ceiling: 3 };


const T0 = Date.UTC(2026, 0, 1);
/** Ten minutes of normal traffic, then a three-minute level shift of latency (8σ): a few latency mentions. */
const PHASE_ONE = [...oneKeyStream(T0, 6000, 1), ...oneKeyStream(T0 + 600_000, 1800, 2, () => 1.6), ...oneKeyStream(T0 + 780_000, 1200, 3)];
/** Then a short burst: four records at +4σ (about 13 of CUSUM, h ≈ 9.8 at this rate), then normal again. */
const PHASE_TWO = [...oneKeyStream(T0 + 900_000, 600, 4), ...oneKeyStream(T0 + 960_000, 4, 5, () => 0.8), ...oneKeyStream(T0 + 960_400, 600, 6)];

function monitor(overrides: Partial<ModelMonitorConfig> = {}) {
  // Persistence off: phase two's burst lasts 400 ms, a transient the default minimum episode (60 s)
  // would hold back; here it stands for a mention whose level the labels move.
  return createModelMonitor(readModelMonitorConfig({}, { sampleFraction: 0.05, sketchMinEpisodeMs: 0, ...overrides }));
}

/**
 * Runs `events` through a new driver: `restore` puts snapshots back into its steps' state handles
 * first (as the runner does from the changelog), `keep` receives the handles of sketch and label-join.
 */
async function run(events: readonly InferenceEvent[], built: ReturnType<typeof monitor>, options: { restore?: Readonly<Record<string, unknown>>; keep?: Map<string, OperatorStateHandle> } = {}): Promise<Mention[]> {
  const driver = new TopologyTestDriver(built.topology, 5_000);
  for (const [step, snapshot] of Object.entries(options.restore ?? {})) driver.stateOf(step).restore(snapshot);
  for (const step of ['sketch', 'label-join']) options.keep?.set(step, driver.stateOf(step));
  for (const event of events) driver.pipeInput(event.model_id, event, event.ts);
  const result = await driver.completeAsync();
  expect(result.settlements.size).to.equal(events.length);
  return result.outputs['mentions'] as Mention[];
}

const handles = (): Map<string, OperatorStateHandle> => new Map();
const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

describe('model-monitor: labels recalibrate the sketch', function () {
  this.timeout(60_000);

  it('false positives raise their field’s level, and the sketch alarms at the raised level; a replayed label moves nothing', async () => {
    const first = monitor();
    const states = handles();
    const mentions = await run(PHASE_ONE, first, { keep: states });
    const latency = mentions.filter((m) => m.field === 'latency_ms' && m.detector === 'sketch-cusum');
    expect(latency.length, 'the shift makes a few latency mentions').to.be.within(2, 6);
    expect(first.probe.labelJoin.awaiting).to.equal(new Set(mentions.map((m) => m.mention_id)).size);
    const before = { sketch: copy(states.get('sketch')!.snapshot()), join: copy(states.get('label-join')!.snapshot()) };

    const onLabel = first.topology.kpis!.onLabel!;
    for (const m of latency) onLabel(m.mention_id, 'FALSE_POSITIVE', 0);
    const raised = first.probe.recalibration.scaleOf('m1\u0000s1', 'm1', 'latency_ms');
    expect(raised).to.be.closeTo(1.1 ** latency.length, 1e-9);
    expect(first.probe.recalibration.scaleOf('m1\u0000s1', 'm1', 'confidence')).to.equal(1);
    // Idempotent by mention_id: the follower reads the labels topic again after a restart.
    for (const m of latency) onLabel(m.mention_id, 'FALSE_POSITIVE', 0);
    onLabel(latency[0]!.mention_id, 'TRUE_POSITIVE', 0);
    expect(first.probe.recalibration.scaleOf('m1\u0000s1', 'm1', 'latency_ms')).to.equal(raised);
    expect(first.probe.labelJoin.counts).to.include({ falsePositives: latency.length, duplicates: latency.length, relabels: 1 });
    const report = modelMonitorReport(first.probe)['recalibration'] as { fields: { field: string; scale: number; level: number }[] };
    const row = report.fields.find((f) => f.field === 'latency_ms')!;
    expect(row.scale).to.equal(raised);
    expect(row.level).to.be.closeTo(first.probe.sketch.level * raised, 1e-9);
    const gauge = first.topology.gauges!.find((g) => g.name === 'signalpath_sketch_level_scale')!.read();
    expect(gauge).to.deep.include({ labels: { field: 'latency_ms', model: '*' }, value: raised });

    // Both continue from phase one's state: one with the labels, one from before them.
    const after = { sketch: copy(states.get('sketch')!.snapshot()), join: copy(states.get('label-join')!.snapshot()) };
    const restore = (snapshots: typeof before) => ({ restore: { sketch: snapshots.sketch, 'label-join': snapshots.join } });
    const control = monitor();
    const controlMentions = await run(PHASE_TWO, control, restore(before));
    const labelled = monitor();
    const labelledMentions = await run(PHASE_TWO, labelled, restore(after));
    const burst = (ms: Mention[]): Mention[] => ms.filter((m) => m.field === 'latency_ms' && m.window_start === T0 + 960_000);
    expect(burst(controlMentions), 'at the calibrated level the burst is a mention').to.have.length(1);
    expect(burst(labelledMentions), 'at the raised level it is not').to.have.length(0);
    // The levels and the applied ids came back: the replayed labels are duplicates.
    expect(labelled.probe.recalibration.scaleOf('m1\u0000s1', 'm1', 'latency_ms')).to.equal(raised);
    for (const m of latency) labelled.topology.kpis!.onLabel!(m.mention_id, 'FALSE_POSITIVE', 0);
    expect(labelled.probe.recalibration.scaleOf('m1\u0000s1', 'm1', 'latency_ms')).to.equal(raised);
    expect(labelled.probe.labelJoin.counts.duplicates).to.equal(2 * latency.length);
  });

  it('true positives lower a level toward the floor and never below it; UNSURE moves nothing; a mention still awaiting after a restore takes its label', async () => {
    // Started miscalibrated at twice the budget's level, with big steps so that a few labels show the way.
    const built = monitor({ levelScale: 2, recalibrationLower: 1.5 });
    const states = handles();
    const mentions = (await run(PHASE_ONE, built, { keep: states })).filter((m) => m.detector === 'sketch-cusum' && m.field === 'latency_ms');
    // At twice the level the shift still alarms (8σ); the mentions wait for their labels.
    expect(mentions.length).to.be.at.least(2);
    const scale = (): number => built.probe.recalibration.scaleOf('m1\u0000s1', 'm1', 'latency_ms');
    built.topology.kpis!.onLabel!(mentions[0]!.mention_id, 'UNSURE', 0);
    expect(scale()).to.equal(2);
    expect(built.probe.labelJoin.counts.unsure).to.equal(1);
    const seen = [scale()];
    for (const m of mentions.slice(0, -1)) {
      built.topology.kpis!.onLabel!(m.mention_id, 'TRUE_POSITIVE', 0);
      seen.push(scale());
    }
    expect(seen.slice(0, 3)).to.deep.equal([2, 2 / 1.5, 1].slice(0, Math.min(3, seen.length)));
    expect(seen.every((s, i) => s >= 1 && (i === 0 || s <= seen[i - 1]!))).to.equal(true);
    // The last mention is still awaiting: a restart keeps it, and its label then applies.
    const restored = { restore: { 'label-join': copy(states.get('label-join')!.snapshot()) } };
    const again = monitor({ levelScale: 2, recalibrationLower: 1.5 });
    await run([], again, restored);
    expect(again.probe.labelJoin.awaiting).to.equal(built.probe.labelJoin.awaiting);
    expect(again.topology.kpis!.onLabel!(mentions.at(-1)!.mention_id, 'TRUE_POSITIVE', 0)).to.equal(undefined);
    expect(again.probe.labelJoin.counts.truePositives).to.equal(mentions.length);
    expect(again.probe.recalibration.scaleOf('m1\u0000s1', 'm1', 'latency_ms')).to.be.at.least(1).and.at.most(seen.at(-1)!);
  });

  it('MODEL_MONITOR_RECALIBRATE=off joins and counts labels, and the levels stay; KPIs per lane', async () => {
    // Every mention to the fast lane, so that both lanes show in the KPIs.
    const built = monitor({ recalibrate: false, reviewShare: 0.5 });
    const mentions = (await run(PHASE_ONE, built)).filter((m) => m.field === 'latency_ms');
    for (const m of mentions) built.topology.kpis!.onLabel!(m.mention_id, 'FALSE_POSITIVE', 0);
    expect(built.probe.labelJoin.counts.falsePositives).to.equal(mentions.length);
    expect(built.probe.recalibration.scaleOf('m1\u0000s1', 'm1', 'latency_ms')).to.equal(1);
    const report = modelMonitorReport(built.probe)['recalibration'] as { enabled: boolean; fields: { field: string; posterior_precision: number }[] };
    expect(report.enabled).to.equal(false);
    expect(report.fields.find((f) => f.field === 'latency_ms')!.posterior_precision).to.be.below(0.95);
    const lanes = (report as unknown as { lanes: Record<'fast' | 'slow', { labels: number; precision: number | null }> }).lanes;
    expect(lanes.fast.labels + lanes.slow.labels).to.equal(mentions.length);
    expect(lanes.fast.labels).to.be.within(1, mentions.length - 1);
    expect([lanes.fast.precision, lanes.slow.precision]).to.deep.equal([0, 0]);
    const gauge = built.topology.gauges!.find((g) => g.name === 'signalpath_label_join_precision')!.read();
    expect(gauge).to.deep.equal([{ labels: { lane: 'fast' }, value: 0 }, { labels: { lane: 'slow' }, value: 0 }]);
  });

  it('reads its settings and names a bad one', () => {
    const config = readModelMonitorConfig({});
    expect(config).to.include({ recalibrate: true, targetPrecision: 0.95, levelFloor: 1, levelScale: 1 });
    expect(() => readModelMonitorConfig({ MODEL_MONITOR_TARGET_PRECISION: '1' })).to.throw(/MODEL_MONITOR_TARGET_PRECISION/);
    expect(() => readModelMonitorConfig({ MODEL_MONITOR_LEVEL_FLOOR: '2', MODEL_MONITOR_LEVEL_CEILING: '1.5' })).to.throw(/MODEL_MONITOR_LEVEL_FLOOR.*MODEL_MONITOR_LEVEL_CEILING/);
  });
});

describe('model-monitor: the label join', () => {
  const join = (applied: [AwaitedMention, boolean][] = [], maxAwaiting = 3) =>
    new LabelJoin({ maxAwaiting, maxApplied: 10, maxEarly: 2, apply: (mention, truePositive) => applied.push([mention, truePositive]) });
  const M = (field = 'latency_ms', sketch = true): AwaitedMention => ({ model: 'm1', field, sketch });

  it('applies the first verdict once, ignores UNSURE, counts duplicates and relabels', () => {
    const applied: [AwaitedMention, boolean][] = [];
    const j = join(applied);
    j.mention('a', M());
    expect(j.label('a', 'UNSURE')).to.equal('unsure');
    expect(j.label('a', 'FALSE_POSITIVE')).to.equal('applied');
    expect(j.label('a', 'FALSE_POSITIVE')).to.equal('duplicate');
    expect(j.label('a', 'TRUE_POSITIVE')).to.equal('relabel');
    j.mention('a', M());
    expect(applied).to.deep.equal([[M(), false]]);
    expect(j.counts).to.include({ mentions: 1, reemitted: 1, unsure: 1, falsePositives: 1, duplicates: 1, relabels: 1 });
  });

  it('holds a label that comes before its mention, bounded; a mention no sketch alarm made is not recalibrated', () => {
    const applied: [AwaitedMention, boolean][] = [];
    const j = join(applied);
    for (const id of ['x', 'y', 'z']) expect(j.label(id, 'TRUE_POSITIVE')).to.equal('early');
    expect(j.counts).to.include({ early: 3, earlyEvicted: 1 });
    j.mention('z', M('confidence'));
    j.mention('x', M());
    expect(applied).to.deep.equal([[M('confidence'), true]]);
    expect(j.counts.earlyJoined).to.equal(1);
    j.mention('d', M('latency_ms', false));
    expect(j.label('d', 'FALSE_POSITIVE')).to.equal('not-recalibrated');
    expect(applied).to.have.length(1);
  });

  it('per lane: feedback latency from emission to label, and labelled precision (every mention, sketch or not)', () => {
    let nowMs = 1_000;
    const j = new LabelJoin({ maxAwaiting: 10, maxApplied: 10, maxEarly: 10, apply: () => {}, now: () => nowMs });
    j.mention('fast-1', M());
    j.mention('slow-1', M('confidence', false));
    j.mention('slow-2', M());
    j.fastLane('fast-1');
    nowMs = 121_000;
    j.label('fast-1', 'TRUE_POSITIVE');
    j.label('slow-1', 'FALSE_POSITIVE', 86_401_000);
    j.label('slow-2', 'TRUE_POSITIVE', 3_601_000);
    j.label('slow-2', 'TRUE_POSITIVE', 9_999_999_999);
    expect(j.lanes.fast.latency.count).to.equal(1);
    expect(j.lanes.fast.latency.sumMs).to.equal(120_000);
    expect(j.lanes.fast.precision()).to.equal(1);
    expect(j.lanes.slow.latency.count, 'the duplicate is not a second feedback').to.equal(2);
    expect(j.lanes.slow.latency.sumMs).to.equal(86_400_000 + 3_600_000);
    expect(j.lanes.slow.precision()).to.equal(0.5);
    // The lane and the emission time of a waiting mention survive a snapshot.
    j.mention('fast-2', M());
    j.fastLane('fast-2');
    const k = new LabelJoin({ maxAwaiting: 10, maxApplied: 10, maxEarly: 10, apply: () => {}, now: () => 0 });
    k.restore(copy(j.snapshot()));
    k.label('fast-2', 'FALSE_POSITIVE', 121_000 + 60_000);
    expect(k.lanes.fast.latency.sumMs).to.equal(60_000);
  });

  it('keeps at most maxAwaiting mentions, the oldest dropped and counted', () => {
    const j = join([], 2);
    for (const id of ['a', 'b', 'c']) j.mention(id, M());
    expect(j.awaiting).to.equal(2);
    expect(j.counts.awaitingEvicted).to.equal(1);
    expect(j.label('a', 'FALSE_POSITIVE')).to.equal('early');
  });

  it('restores awaiting mentions and applied ids, then joins the labels that came before the restore', () => {
    const applied: [AwaitedMention, boolean][] = [];
    const j = join(applied);
    j.mention('a', M());
    j.mention('b', M('confidence'));
    j.label('a', 'TRUE_POSITIVE');
    const snapshot = copy(j.snapshot());
    const restoredApplied: [AwaitedMention, boolean][] = [];
    const k = join(restoredApplied);
    // The follower starts before the restore: its labels are held, then joined against the restored state.
    expect(k.label('a', 'TRUE_POSITIVE')).to.equal('early');
    expect(k.label('b', 'FALSE_POSITIVE')).to.equal('early');
    expect(k.label('b', 'FALSE_POSITIVE'), 'a second copy of a held label').to.equal('duplicate');
    expect(k.label('b', 'UNSURE')).to.equal('unsure');
    k.restore(snapshot);
    expect(restoredApplied).to.deep.equal([[M('confidence'), false]]);
    expect(k.counts).to.include({ duplicates: 2, unsure: 1, truePositives: 1, falsePositives: 1, earlyJoined: 1, early: 0 });
    expect(k.awaiting).to.equal(0);
  });
});

describe('model-monitor: a crash with labels in flight', () => {
  // The topology's wiring: the join applies each mention's first verdict to the recalibration.
  const build = () => {
    const recalibration = new LevelRecalibrator({ ...RULE, fields: ['a', 'b'], enabled: true, modelLabels: 5, maxModels: 100 });
    const join = new LabelJoin({ maxAwaiting: 1000, maxApplied: 1000, maxEarly: 1000, apply: (m, tp) => recalibration.label(m.model, m.field, tp), now: () => 0 });
    return { recalibration, join };
  };
  const verdicts = fc.constantFrom('TRUE_POSITIVE' as const, 'FALSE_POSITIVE' as const, 'UNSURE' as const);

  it('property: restored from any earlier snapshot and fed every label again (the follower re-reads the topic), the levels end as if each label had been applied once', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(19), verdicts), { minLength: 1, maxLength: 60 }), fc.nat(), fc.nat(), (labels, snapAt, crashAt) => {
        const mentions = Array.from({ length: 20 }, (_, i) => ({ id: `m${i}`, mention: { model: `model${i % 3}`, field: i % 2 === 0 ? 'a' : 'b', sketch: true } }));
        const once = build();
        for (const { id, mention } of mentions) once.join.mention(id, mention);
        for (const [i, verdict] of labels) once.join.label(`m${i}`, verdict);

        const crashed = build();
        for (const { id, mention } of mentions) crashed.join.mention(id, mention);
        const k = crashAt % (labels.length + 1);
        const s = snapAt % (k + 1);
        let snapshot: unknown;
        labels.slice(0, k).forEach(([i, verdict], n) => {
          if (n === s) snapshot = copy({ join: crashed.join.snapshot(), levels: crashed.recalibration.snapshot() });
          crashed.join.label(`m${i}`, verdict);
        });
        snapshot ??= copy({ join: crashed.join.snapshot(), levels: crashed.recalibration.snapshot() });
        // kill -9: whatever came after the snapshot is gone; the restarted instance restores it and
        // the follower hands on every label from the topic's beginning.
        const restarted = build();
        const { join, levels } = snapshot as { join: Record<string, unknown>; levels: Record<string, unknown> };
        restarted.recalibration.restore(levels);
        restarted.join.restore(join);
        for (const [i, verdict] of labels) restarted.join.label(`m${i}`, verdict);
        expect(restarted.recalibration.report()).to.deep.equal(once.recalibration.report());
        expect(restarted.join.awaiting).to.equal(once.join.awaiting);
      }),
    );
  });
});

describe('model-monitor: the recalibration rule', () => {
  const labels = fc.array(fc.boolean(), { maxLength: 200 });
  const rules = fc.record({
    targetPrecision: fc.double({ min: 0.5, max: 0.999, noNaN: true }),
    priorLabels: fc.double({ min: 0.1, max: 100, noNaN: true }),
    memoryLabels: fc.double({ min: 1, max: 1000, noNaN: true }),
    raiseFactor: fc.double({ min: 1.001, max: 3, noNaN: true }),
    lowerFactor: fc.double({ min: 1.001, max: 3, noNaN: true }),
    floor: fc.double({ min: 0.1, max: 2, noNaN: true }),
    ceiling: fc.double({ min: 2, max: 10, noNaN: true }),
  });
  const finalScale = (sequence: readonly boolean[], rule: RecalibrationRule, start: number): number => {
    const cell = newCell(rule, start);
    for (const truePositive of sequence) applyLabel(cell, truePositive, rule);
    return cell.scale;
  };

  it('moves the right way: a false positive below the target raises, a true positive above it lowers, to the floor', () => {
    const cell = newCell(RULE, 1);
    expect(applyLabel(cell, false, RULE)).to.equal(true);
    expect(cell.scale).to.be.closeTo(1.1, 1e-12);
    expect(applyLabel(cell, true, RULE), 'precision still short of its target: a true positive does not lower').to.equal(false);
    for (let i = 0; i < 200; i++) applyLabel(cell, true, RULE);
    expect(cell.scale).to.equal(1);
  });

  it('property: turning a true positive into a false one never lowers the factor (monotone)', () => {
    fc.assert(
      fc.property(labels, fc.nat(), rules, fc.double({ min: 0.2, max: 5, noNaN: true }), (sequence, at, rule, start) => {
        if (!sequence.some((l) => l)) return;
        const trues = sequence.map((l, i) => (l ? i : -1)).filter((i) => i >= 0);
        const flipped = [...sequence];
        flipped[trues[at % trues.length]!] = false;
        expect(finalScale(flipped, rule, start)).to.be.at.least(finalScale(sequence, rule, start));
      }),
    );
  });

  it('property: bounded by [min(floor, start), max(ceiling, start)]; false positives alone never lower it, true positives alone never raise it', () => {
    fc.assert(
      fc.property(labels, rules, fc.double({ min: 0.2, max: 5, noNaN: true }), (sequence, rule, start) => {
        const cell = newCell(rule, start);
        for (const truePositive of sequence) {
          const before = cell.scale;
          applyLabel(cell, truePositive, rule);
          expect(cell.scale).to.be.at.least(Math.min(rule.floor, start)).and.at.most(Math.max(rule.ceiling, start));
          if (truePositive) expect(cell.scale).to.be.at.most(before);
          else expect(cell.scale).to.be.at.least(before);
        }
      }),
    );
  });

  it('a model × field takes its own factor once it has enough labels; model cells are bounded', () => {
    const recalibration = new LevelRecalibrator({ ...RULE, fields: ['x'], enabled: true, modelLabels: 3, maxModels: 2 });
    for (let i = 0; i < 3; i++) recalibration.label('m1', 'x', false);
    const field = recalibration.scaleOf('m2|s', 'm2', 'x');
    expect(recalibration.scaleOf('m1|s', 'm1', 'x')).to.be.closeTo(1.1 ** 3, 1e-9);
    expect(field).to.be.closeTo(1.1 ** 3, 1e-9);
    for (let i = 0; i < 3; i++) recalibration.label('m2', 'x', true);
    expect(recalibration.scaleOf('m2|s', 'm2', 'x'), 'm2 has its own factor now').to.equal(1);
    recalibration.label('m3', 'x', true);
    expect(recalibration.modelEvictions).to.equal(1);
    const copyOf = new LevelRecalibrator({ ...RULE, fields: ['x'], enabled: true, modelLabels: 3, maxModels: 2 });
    copyOf.restore(copy(recalibration.snapshot()));
    expect(copyOf.report()).to.deep.equal(recalibration.report());
  });
});
