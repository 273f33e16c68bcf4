/** Pure sampling logic (no RxJS): reservoirs, budget allocation among strata, per-window sampler. */
export { TopKeyReservoir, type KeyedItem } from './top-key-reservoir.js';
export { allocateBudget, stratumAllocations, type StratumAllocation } from './allocation.js';
export { WindowSampler, overflowGroup, type ChosenRecord, type KeyScheme, type WindowSamplerConfig } from './window-sampler.js';
export type { Sampled } from './sampled.js';
