/**
 * model-monitor, configured from the environment (see config.ts: MODEL_REGISTRY_URL and the
 * MODEL_MONITOR_* variables, each with a default; without the registry URL enrichment is off). Run it
 * with `MODEL_REGISTRY_URL=http://… npx signalpath run model-monitor`; the topology itself is in
 * topology.ts (`createModelMonitor`), for tests and the lab that build it with their own settings.
 * Its run report (lane loads, sampler allocations) goes into the run summary (`--summary`).
 */
import { readModelMonitorConfig } from './config.js';
import { modelMonitorReport } from './run-report.js';
import { createModelMonitor } from './topology.js';

const config = readModelMonitorConfig(process.env);
if (config.registryUrl === undefined) {
  console.error('model-monitor: MODEL_REGISTRY_URL is not set: enrichment is off (every model unknown: no owner, the detectors\' own levels); the run report says enrich.enabled false');
}
const { topology, probe } = createModelMonitor(config);

export default { ...topology, report: () => modelMonitorReport(probe) };
