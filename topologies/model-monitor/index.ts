/**
 * model-monitor, configured from the environment (see config.ts: MODEL_REGISTRY_URL and the
 * MODEL_MONITOR_* variables, each with a default but the registry URL). Run it with
 * `MODEL_REGISTRY_URL=http://… npx signalpath run model-monitor`; the topology itself is in
 * topology.ts (`createModelMonitor`), for tests and the lab that build it with their own settings.
 * Its run report (lane loads, sampler allocations) goes into the run summary (`--summary`).
 */
import { readModelMonitorConfig } from './config.js';
import { modelMonitorReport } from './run-report.js';
import { createModelMonitor } from './topology.js';

const { topology, probe } = createModelMonitor(readModelMonitorConfig(process.env));

export default { ...topology, report: () => modelMonitorReport(probe) };
