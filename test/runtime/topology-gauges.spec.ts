import { expect } from 'chai';
import { InferenceEventContract } from '../../schemas/index.js';
import { defineTopology, toOutput, type TopologyGauge } from '../../runtime/topology.js';

const withGauges = (gauges: readonly TopologyGauge[]) =>
  defineTopology({
    name: 'gauged',
    description: 'test',
    input: { topic: 'in', contract: InferenceEventContract },
    outputs: { output: { topic: 'out', contract: InferenceEventContract } },
    gauges,
    steps: (input) => input.step('route', toOutput('output')),
  });

describe('topology gauges', () => {
  it('keeps the gauges a topology declares, for the runner to export', () => {
    let state = 2;
    const topology = withGauges([{ name: 'signalpath_enrich_circuit_state', help: 'breaker', read: () => [{ labels: { step: 'enrich' }, value: state }] }]);
    expect(topology.gauges).to.have.length(1);
    state = 0;
    expect(topology.gauges![0]!.read()).to.deep.equal([{ labels: { step: 'enrich' }, value: 0 }]);
  });

  it('rejects a gauge name Prometheus would refuse, at definition time', () => {
    expect(() => withGauges([{ name: 'circuit-state', help: 'x', read: () => [] }])).to.throw(TypeError, /gauge name "circuit-state" is not a Prometheus metric name/);
  });
});
