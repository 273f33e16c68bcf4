/**
 * `signalpath` — the package's main entry: the topology DSL, the runner, and the record types a step
 * sees (from core). What a project that depends on signalpath imports to write a topology:
 *
 * ```ts
 * import { defineTopology, filterRecords, mapRecords, toOutput } from 'signalpath';
 * import { InferenceEventContract, MentionContract } from 'signalpath/schemas';
 * ```
 *
 * The other entries: `signalpath/operators` (the operator library), `signalpath/schemas` (the
 * contracts, their types and the tools to read your own), `signalpath/testing` (the topology test
 * driver). Everything exported here is covered by the version policy (docs/versioning.md).
 */

// The DSL: a topology, its steps, and the step helpers.
export {
  defineTopology,
  filterRecords,
  mapRecords,
  toOutput,
  withContext,
  TOPOLOGY_NAME,
  type InputSpec,
  type NamedStep,
  type OutputSpec,
  type RoutedEnvelope,
  type StepChain,
  type StepContext,
  type StepOperator,
  type Topology,
  type TopologyDefinition,
  type TopologyGauge,
} from './topology.js';

// Running a topology from code (the `signalpath run` command does this for you).
export { runTopology, resolveTopics, type RunningTopology, type RunSummary } from './runner.js';
export { ConfigError, type RunConfig } from './config.js';

// What travels between steps, and how a record's fate is settled.
export {
  dropRecord,
  fanOut,
  mergeInto,
  withValue,
  type Envelope,
  type RecordHeaders,
  type RecordOrigin,
} from '../core/envelope.js';
export { DoubleSettlementError, type Settlement, type SettlementOutcome } from '../core/settlement.js';
