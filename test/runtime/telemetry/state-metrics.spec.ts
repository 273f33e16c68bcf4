/**
 * Operator state in /metrics, without a broker: windowedDedup's records settled as already emitted
 * (the handover of emitted pairs at work) and the outcome of each restore (restored, merged, kept,
 * none), exported the way the runner exports them (`addTopologyGauges`, `addStateMetrics`).
 */
import { expect } from 'chai';
import { Subject } from 'rxjs';
import { testEnvelope, type Envelope } from '../../../core/envelope.js';
import { TopologyTelemetry } from '../../../runtime/telemetry/topology-telemetry.js';
import { dedupMetrics } from '../../../runtime/telemetry/dedup-metrics.js';
import { StepStates } from '../../../runtime/state/step-states.js';
import { changelogKey, type ChangelogEntry } from '../../../runtime/state/changelog.js';
import { DedupCounters, windowedDedup } from '../../../operators/windowed-dedup.js';
import { OperatorStateHandle } from '../../../core/state.js';
import { dedupSnapshot, type DedupTestEvent as Ev } from '../../support/dedup-fixtures.js';
import type { Detection } from '../../../operators/parallel-detect.js';
import { defineTopology, toOutput } from '../../../runtime/topology.js';
import { InferenceEventContract } from '../../../schemas/index.js';

const CLUSTER = 'm|s|latency_ms|HIGH';

/** A record of model m with one HIGH latency finding at `t`, from input partition `partition`. */
const rec = (id: string, t: number, partition: number): Envelope<Detection<Ev>> =>
  testEnvelope(
    { event: { event_id: id, model_id: 'm', model_version: 'v1', tenant: 't', segment: 's' }, findings: [{ field: 'latency_ms', direction: 'HIGH', score: 0.99, detector: 'ewma-zscore', shadow: false }] },
    { eventTimeMs: t, watermarkMs: t - 1, partition },
  );

/** The value of one series of a registered metric, or undefined when it has no such series. */
async function series(telemetry: TopologyTelemetry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const { values } = await telemetry.registry.getSingleMetric(name)!.get();
  return values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
}

describe('state metrics: windowedDedup already emitted, restore outcomes', () => {
  const telemetries: TopologyTelemetry[] = [];
  const newTelemetry = (): TopologyTelemetry => {
    const telemetry = new TopologyTelemetry({ topology: 'shop', stepNames: ['dedup'], maxUnsettled: 10 });
    telemetries.push(telemetry);
    return telemetry;
  };
  afterEach(async () => {
    for (const telemetry of telemetries.splice(0)) await telemetry.close();
  });

  /** One instance: a windowedDedup over 10 ms tumbling windows whose counters are exported. */
  function instance(state: OperatorStateHandle) {
    const counters = new DedupCounters();
    const telemetry = newTelemetry();
    telemetry.addTopologyGauges(dedupMetrics('dedup', counters));
    const input = new Subject<Envelope<Detection<Ev>>>();
    const mentions: string[] = [];
    input.pipe(windowedDedup<Ev>({ window: { kind: 'tumbling', sizeMs: 10 }, state }, counters)).subscribe((m) => {
      mentions.push(`${m.value.cluster_id}@${m.value.window_start}`);
      m.settlement.settle('delivered');
    });
    const alreadyEmitted = () => series(telemetry, 'signalpath_dedup_already_emitted_total', { topology: 'shop', step: 'dedup' });
    return { input, mentions, counters, telemetry, alreadyEmitted };
  }

  it('a restored snapshot with emitted pairs: signalpath_dedup_already_emitted_total counts the records settled as already emitted', async () => {
    const state = new OperatorStateHandle();
    state.restore(dedupSnapshot([[1, CLUSTER, 0, 10]]), [1]);
    const b = instance(state);
    expect(await b.alreadyEmitted()).to.equal(0);
    for (const [id, t] of [['b5', 5], ['b6', 6], ['b8', 8], ['b12', 12]] as const) b.input.next(rec(id, t, 1));
    b.input.complete();
    // b5, b6, b8 fall in the window a previous owner emitted; b12 opens the next one.
    expect(b.mentions).to.deep.equal([`${CLUSTER}@10`]);
    expect(await b.alreadyEmitted()).to.equal(3);
    expect(await b.telemetry.registry.metrics()).to.match(/# TYPE signalpath_dedup_already_emitted_total counter/);

    // The same records without the snapshot make a second mention and count nothing.
    const cold = instance(new OperatorStateHandle());
    for (const [id, t] of [['c5', 5], ['c6', 6], ['c8', 8], ['c12', 12]] as const) cold.input.next(rec(id, t, 1));
    cold.input.complete();
    expect(cold.mentions).to.deep.equal([`${CLUSTER}@0`, `${CLUSTER}@10`]);
    expect(await cold.alreadyEmitted()).to.equal(0);
  });

  it('a snapshot restored for other partitions counts nothing (only the pairs of the partitions taken over close)', async () => {
    const state = new OperatorStateHandle();
    state.restore(dedupSnapshot([[1, CLUSTER, 0, 10]]), [2]);
    const b = instance(state);
    for (const [id, t] of [['b5', 5], ['b12', 12]] as const) b.input.next(rec(id, t, 2));
    expect(await b.alreadyEmitted()).to.equal(0);
  });

  it('signalpath_state_restores_total counts each restore by outcome, signalpath_state_snapshots_merged_total the snapshots merged', async () => {
    const entry = (partition: number, writer: string, emitted: [number, string, number, number][]): ChangelogEntry => ({
      format: 1,
      step: 'dedup',
      partition,
      committedOffset: 10,
      writer,
      writtenAtMs: 1000 + partition,
      snapshot: dedupSnapshot(emitted),
    });
    const changelog = new Map<string, ChangelogEntry>([
      [changelogKey('dedup', 0), entry(0, 'host:1#1', [[0, CLUSTER, 0, 10]])],
      [changelogKey('dedup', 1), entry(1, 'host:2#1', [[1, CLUSTER, 10, 20]])],
    ]);
    const states = new StepStates({ topology: 'shop', brokers: '127.0.0.1:9', log: () => {}, write: () => {}, read: async () => ({ entries: changelog, recordsRead: changelog.size }) });
    const telemetry = newTelemetry();
    telemetry.addStateMetrics(states);
    new Subject<Envelope<Detection<Ev>>>().pipe(windowedDedup<Ev>({ state: states.handleFor('dedup') })).subscribe();
    const restores = (action: string) => series(telemetry, 'signalpath_state_restores_total', { topology: 'shop', step: 'dedup', action });
    expect(await series(telemetry, 'signalpath_state_restore_seconds', { topology: 'shop' }), 'absent before the first restore').to.equal(undefined);

    expect((await states.restore([0])).map((r) => r.action)).to.deep.equal(['restored']);
    expect((await states.restore([1])).map((r) => r.action)).to.deep.equal(['merged']);
    expect((await states.restore([3])).map((r) => r.action)).to.deep.equal(['kept']);
    expect(await restores('restored')).to.equal(1);
    expect(await restores('merged')).to.equal(1);
    expect(await restores('kept')).to.equal(1);
    expect(await restores('none')).to.equal(0);
    expect(await series(telemetry, 'signalpath_state_snapshots_merged_total', { topology: 'shop', step: 'dedup' })).to.equal(1);
    expect(await series(telemetry, 'signalpath_state_restore_seconds', { topology: 'shop' })).to.be.a('number').at.least(0);
  });

  it('a topology counter must be named *_total', () => {
    const counter = (name: string) => () =>
      defineTopology({
        name: 'counted',
        description: 'test',
        input: { topic: 'in', contract: InferenceEventContract },
        outputs: { output: { topic: 'out', contract: InferenceEventContract } },
        gauges: [{ name, help: 'x', type: 'counter', read: () => [] }],
        steps: (input) => input.step('route', toOutput('output')),
      });
    expect(counter('signalpath_dedup_already_emitted')).to.throw(TypeError, /counter "signalpath_dedup_already_emitted" must end in _total/);
    expect(counter('signalpath_dedup_already_emitted_total')).to.not.throw();
  });
});
