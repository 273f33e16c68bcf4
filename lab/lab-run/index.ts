export { renderLabFromRun, runLab, type LabOptions, type LabOutcome } from './run-lab.js';
export { labVariants, type LabVariant } from './variants.js';
export { labJson, type LabReport } from './lab-report.js';
export type { LabRow, VariantResult } from './variant-result.js';
