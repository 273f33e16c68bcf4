/**
 * model-monitor's shadow detectors (shadow-path.ts) on the topology test driver: their mentions go
 * to the `shadow` output (mentions.shadow) only, marked and with ids of their own; the live output is
 * the same with and without them; promotion carries a shadow's learnt state to the live sketch.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { TopologyTestDriver } from '../../runtime/testing/topology-test-driver.js';
import type { OperatorSnapshot } from '../../core/state.js';
import type { InferenceEvent, Mention } from '../../schemas/index.js';
import { readModelMonitorConfig, type ModelMonitorConfig } from '../../topologies/model-monitor/config.js';
import { isShadowMentionId, parseShadowDetectors, promotedSketchSnapshot, shadowNameOf } from '../../topologies/model-monitor/shadow-path.js';
import { createModelMonitor } from '../../topologies/model-monitor/topology.js';
import { ConfigError } from '../../runtime/config.js';
import { oneKeyStream } from '../support/monitor-stream.js';


const T0 = Date.UTC(2026, 0, 1);
/** Ten minutes of normal traffic, a three-minute latency shift (8σ), five minutes normal; then a small shift (2σ) for three minutes. */
const EVENTS = [...oneKeyStream(T0, 6000, 1), ...oneKeyStream(T0 + 600_000, 1800, 2, () => 1.6), ...oneKeyStream(T0 + 780_000, 3000, 3), ...oneKeyStream(T0 + 1_080_000, 1800, 4, () => 0.4), ...oneKeyStream(T0 + 1_260_000, 1200, 5)];

function monitor(overrides: Partial<ModelMonitorConfig> = {}, env: NodeJS.ProcessEnv = {}) {
  return createModelMonitor(readModelMonitorConfig(env, { sampleFraction: 0.05, ...overrides }));
}

async function run(built: ReturnType<typeof monitor>, events: readonly InferenceEvent[], restore: Readonly<Record<string, OperatorSnapshot>> = {}) {
  const driver = new TopologyTestDriver(built.topology, 5_000);
  for (const [step, snapshot] of Object.entries(restore)) driver.stateOf(step).restore(snapshot);
  const states = { sketch: driver.stateOf('sketch'), shadow: built.topology.chain.some((s) => s.name === 'shadow') ? driver.stateOf('shadow') : undefined };
  for (const event of events) driver.pipeInput(event.model_id, event, event.ts);
  const result = await driver.completeAsync();
  expect(result.settlements.size, 'every input settles').to.equal(events.length);
  return { result, states };
}

/** A mention without its processing-time fields, for comparing runs. */
const stable = (m: Mention) => ({ ...m, emitted_at: 0, attributes: { ...m.attributes, first_evidence_arrived_at: '' } });

describe('model-monitor: shadow detectors', function () {
  this.timeout(120_000);

  it('MODEL_MONITOR_SHADOW_DETECTORS: parsed with parameters, checked at start with what it accepts', () => {
    expect(parseShadowDetectors('none')).to.deep.equal([]);
    expect(parseShadowDetectors('sketch-cusum, sketch-cusum@scale=0.5&budget=2')).to.deep.equal([
      { name: 'sketch-cusum', detector: 'sketch-cusum', scale: 1, budget: undefined },
      { name: 'sketch-cusum@budget=2&scale=0.5', detector: 'sketch-cusum', scale: 0.5, budget: 2 },
    ]);
    const bad = (value: string, pattern: RegExp) => expect(() => readModelMonitorConfig({ MODEL_MONITOR_SHADOW_DETECTORS: value })).to.throw(ConfigError, pattern);
    bad('lstm', /MODEL_MONITOR_SHADOW_DETECTORS.*unknown shadow detector "lstm".*sketch-cusum@scale=0.5/);
    bad('sketch-cusum@scale=0', /scale must be a number in \[0.1, 100\]/);
    bad('sketch-cusum@speed=2', /unknown parameter "speed"/);
    bad('sketch-cusum,sketch-cusum', /listed twice/);
    expect(readModelMonitorConfig({}).shadowDetectors).to.deep.equal([]);
  });

  it('shadow mentions go to mentions.shadow only, marked, with shadow ids; the live output is the same as without shadows', async () => {
    const plain = await run(monitor(), EVENTS);
    const built = monitor({}, { MODEL_MONITOR_SHADOW_DETECTORS: 'sketch-cusum,sketch-cusum@scale=0.5' });
    expect(built.topology.outputs['shadow']?.topic).to.equal('mentions.shadow');
    expect(monitor().topology.outputs['shadow'], 'no shadow output without shadows').to.equal(undefined);
    const shadowed = await run(built, EVENTS);
    const live = shadowed.result.outputs['mentions'] as Mention[];
    const review = shadowed.result.outputs['review'] as Mention[];
    const shadow = shadowed.result.outputs['shadow'] as Mention[];
    expect(live.length, 'the shifts make live mentions').to.be.greaterThan(0);
    expect(live.map(stable)).to.deep.equal((plain.result.outputs['mentions'] as Mention[]).map(stable));
    expect(review.map(stable)).to.deep.equal((plain.result.outputs['review'] as Mention[]).map(stable));
    expect([...live, ...review].every((m) => !m.shadow && !isShadowMentionId(m.mention_id))).to.equal(true);
    expect(shadow.length).to.be.greaterThan(0);
    expect(shadow.every((m) => m.shadow && isShadowMentionId(m.mention_id) && m.attributes['shadow_detector'] === shadowNameOf(m.mention_id))).to.equal(true);
    const byName = (name: string) => shadow.filter((m) => m.attributes['shadow_detector'] === name);
    // Same settings as live: the same windows, fields and directions as the live sketch's mentions.
    const cells = (ms: Mention[]) => ms.filter((m) => m.detector === 'sketch-cusum').map((m) => `${m.window_start}/${m.field}/${m.direction}`).sort();
    expect(cells(byName('sketch-cusum'))).to.deep.equal(cells(live));
    // Halved level: at least as many mentions, and more alarm episodes.
    expect(byName('sketch-cusum@scale=0.5').length).to.be.at.least(byName('sketch-cusum').length);
    const counts = built.probe.shadow();
    expect(counts['sketch-cusum@scale=0.5']!.episodes).to.be.greaterThan(counts['sketch-cusum']!.episodes);
    expect(built.probe.shadow()['sketch-cusum@scale=0.5']!.mentions).to.equal(byName('sketch-cusum@scale=0.5').length);
  });

  it('a label of a shadow mention moves no live level and is not held as an early label', async () => {
    const built = monitor({}, { MODEL_MONITOR_SHADOW_DETECTORS: 'sketch-cusum@scale=0.5' });
    const { result } = await run(built, EVENTS);
    const shadow = result.outputs['shadow'] as Mention[];
    const before = JSON.stringify(built.probe.recalibration.snapshot());
    for (const m of shadow) built.topology.kpis!.onLabel!(m.mention_id, 'FALSE_POSITIVE', Date.now());
    expect(JSON.stringify(built.probe.recalibration.snapshot())).to.equal(before);
    expect(built.probe.labelJoin.counts.early).to.equal(0);
  });

  it('promotion: the shadow’s learnt state restored into the live sketch continues as the shadow would have', async () => {
    const first = EVENTS.slice(0, 10_780);
    const rest = EVENTS.slice(10_780);
    // Shadow at ×0.5 learns on the first part …
    const shadowed = monitor({}, { MODEL_MONITOR_SHADOW_DETECTORS: 'sketch-cusum@scale=0.5' });
    const a = await run(shadowed, first);
    const snapshot = a.states.shadow!.snapshot();
    // … and is promoted: its setting becomes the live one, its state the live sketch's.
    const promoted = monitor({ levelScale: 0.5, recalibrate: false });
    const b = await run(promoted, rest, { sketch: promotedSketchSnapshot(snapshot, 'sketch-cusum@scale=0.5') });
    // The same shadow, had it gone on over the rest, finds the same sketch cells.
    const continued = monitor({}, { MODEL_MONITOR_SHADOW_DETECTORS: 'sketch-cusum@scale=0.5' });
    const c = await run(continued, rest, { shadow: snapshot });
    const cells = (ms: Mention[]) => ms.filter((m) => m.detector === 'sketch-cusum').map((m) => `${m.window_start}/${m.field}/${m.direction}/${m.event_count}`).sort();
    const live = b.result.outputs['mentions'] as Mention[];
    expect(live.length).to.be.greaterThan(0);
    expect(cells(live)).to.deep.equal(cells(c.result.outputs['shadow'] as Mention[]));
    // Without the carried state the promoted sketch warms up again and misses the early windows.
    const cold = await run(monitor({ levelScale: 0.5, recalibrate: false }), rest);
    expect(cells(cold.result.outputs['mentions'] as Mention[])).to.not.deep.equal(cells(live));
    expect(() => promotedSketchSnapshot(snapshot, 'sketch-cusum')).to.throw(RangeError, /no shadow named "sketch-cusum"/);
  });

  it('shadow names round-trip through mention ids (property)', () => {
    fc.assert(fc.property(fc.constantFrom('sketch-cusum', 'sketch-cusum@scale=0.5', 'sketch-cusum@budget=2&scale=3'), fc.string(), (name, id) => {
      const mentionId = `shadow:${name}:${id}`;
      return isShadowMentionId(mentionId) && shadowNameOf(mentionId) === name && !isShadowMentionId(id.replace(/^shadow:/, 'x'));
    }));
  });
});
