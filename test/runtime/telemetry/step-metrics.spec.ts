import { expect } from 'chai';
import { from, lastValueFrom, map, toArray } from 'rxjs';
import { testEnvelope, type Envelope } from '../../../core/envelope.js';
import { createSettlement, type SettlementOutcome } from '../../../core/settlement.js';
import { defineTopology, filterRecords, mapRecords, toOutput, type RoutedEnvelope } from '../../../runtime/topology.js';
import { assembleChain } from '../../../runtime/runner/chain.js';
import { TopologyTelemetry } from '../../../runtime/telemetry/topology-telemetry.js';
import type { TracedOrigin } from '../../../runtime/telemetry/stage-clock.js';
import { InferenceEventContract, type Contract } from '../../../schemas/index.js';

// The chain never encodes: any contract does for declaring the topology.
const NumberContract = InferenceEventContract as unknown as Contract<number>;

/** An envelope stamped like the source stamps one, settling into `telemetry`. */
function tracedEnvelope(value: number, telemetry: TopologyTelemetry, outcomes: SettlementOutcome[]): Envelope<number> {
  const base = testEnvelope(value, { offset: value });
  const origin: TracedOrigin = { ...base.origin, telemetrySeq: telemetry.consumed(performance.now()), traceparent: null };
  const settlement = createSettlement((outcome) => {
    outcomes.push(outcome);
    telemetry.settled(origin, outcome);
  });
  return { ...base, origin, settlement };
}

/** Runs the topology's chain the way the runner does: context per step, wrapper around each. */
async function runChain(values: number[]): Promise<{ telemetry: TopologyTelemetry; outputs: RoutedEnvelope[]; outcomes: SettlementOutcome[] }> {
  const topology = defineTopology<number>({
    name: 'counting',
    description: 'drops odd numbers, fails on 4, doubles the rest',
    input: { topic: 'numbers', contract: NumberContract },
    outputs: { out: { topic: 'doubled', contract: NumberContract } },
    steps: (input) =>
      input
        .step('keep-even', filterRecords((v) => v % 2 === 0))
        .step(
          'double',
          mapRecords((v) => {
            if (v === 4) throw new Error('four is not welcome');
            return v * 2;
          }),
        )
        .step('route', toOutput('out')),
  });
  const telemetry = new TopologyTelemetry({ topology: topology.name, stepNames: topology.chain.map((s) => s.name), maxUnsettled: 100, baselineRate: 0 });
  const outcomes: SettlementOutcome[] = [];
  // As the runner feeds the chain: count each record handed to the first step.
  const input = from(values.map((v) => tracedEnvelope(v, telemetry, outcomes))).pipe(
    map((envelope) => {
      telemetry.steps.countEntered();
      return envelope;
    }),
  );
  const chain = assembleChain(topology, input, {
    meter: { add: () => {} },
    deadLetter: (step, envelope) => {
      telemetry.steps.countFailed(step);
      envelope.settlement.settle('dead-lettered');
    },
    wrap: (index, operator) => telemetry.steps.wrap(index, operator),
  });
  const outputs = (await lastValueFrom(chain.pipe(toArray<unknown>()))) as RoutedEnvelope[];
  for (const output of outputs) output.settlement.settle('delivered');
  await telemetry.close();
  return { telemetry, outputs, outcomes };
}

describe('telemetry: step metrics wrapper', () => {
  it('counts received, emitted, dropped and failed per step on an in-memory pipeline', async () => {
    const values = Array.from({ length: 10 }, (_, i) => i + 1);
    const { telemetry, outputs, outcomes } = await runChain(values);
    expect(outputs.map((o) => o.value)).to.deep.equal([4, 12, 16, 20]);
    const steps = telemetry.steps;
    expect([...steps.received]).to.deep.equal([10, 5, 4]);
    expect([...steps.emitted]).to.deep.equal([5, 4, 4]);
    expect([...steps.dropped]).to.deep.equal([5, 0, 0]);
    expect(Object.fromEntries(steps.failed)).to.deep.equal({ double: 1 });
    expect(steps.settled).to.deep.equal({ delivered: 4, dropped: 5, 'dead-lettered': 1 });
    expect(outcomes).to.have.length(10);
    // Every record that left a step was timed in it.
    expect(steps.latency.map((h) => h.count)).to.deep.equal([5, 4, 4]);
  });

  it('exposes them as Prometheus text', async () => {
    const { telemetry } = await runChain([1, 2, 3, 4, 5, 6]);
    const text = await telemetry.registry.metrics();
    expect(text).to.include('signalpath_step_received_total{topology="counting",step="keep-even"} 6');
    expect(text).to.include('signalpath_step_emitted_total{topology="counting",step="keep-even"} 3');
    expect(text).to.include('signalpath_step_dropped_total{topology="counting",step="keep-even"} 3');
    expect(text).to.include('signalpath_step_failed_total{topology="counting",step="double"} 1');
    expect(text).to.include('signalpath_step_latency_seconds_count{topology="counting",step="route"} 2');
    expect(text).to.include('signalpath_step_latency_seconds_bucket{topology="counting",step="route",le="+Inf"} 2');
    expect(text).to.include('signalpath_records_settled_total{topology="counting",outcome="delivered"} 2');
    expect(text).to.include('# TYPE signalpath_record_latency_seconds histogram');
  });

  it('leaves envelopes without a telemetry stamp (test envelopes) counted but untimed', async () => {
    const telemetry = new TopologyTelemetry({ topology: 't', stepNames: ['pass'], maxUnsettled: 10 });
    const wrapped = telemetry.steps.wrap(0, (source) => source);
    const out = await lastValueFrom(from([testEnvelope(1), testEnvelope(2)]).pipe(wrapped, toArray()));
    expect(out).to.have.length(2);
    expect([...telemetry.steps.emitted]).to.deep.equal([2]);
    expect(telemetry.steps.latency[0]!.count).to.equal(0);
    await telemetry.close();
  });
});
