/**
 * Re-derives model-monitor's detector thresholds (lab/tuning/model-monitor-thresholds.ts explains
 * how) and writes topologies/model-monitor/tuned-thresholds.json. Run it after a change to a detector
 * or to the score mapping: `npx tsx scripts/tune-model-monitor-thresholds.ts`.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { F_BETA, MIN_RECALL, TARGET_PRECISION, TUNING_STREAM, deriveThresholds } from '../lab/tuning/model-monitor-thresholds.js';
import { MODEL_MONITOR_SETTINGS } from '../topologies/model-monitor/config.js';

const detectors = ['ewma-zscore', 'cusum', 'mad', 'page-hinkley'];
const fields = MODEL_MONITOR_SETTINGS.fields.default.split(',');
const startedAt = Date.now();
const derived = deriveThresholds(detectors, fields);
const file = fileURLToPath(new URL('../topologies/model-monitor/tuned-thresholds.json', import.meta.url));
const body = {
  how: `tune-threshold on generateStream(${JSON.stringify(TUNING_STREAM)}), every event scored per model × segment × field; precision: highest precision tier ≤ ${TARGET_PRECISION} reached, else highest precision at ≥ ${MIN_RECALL} recall; f-beta: best F${F_BETA}`,
  detectors: derived,
};
await writeFile(file, `${JSON.stringify(body, null, 2)}\n`);
console.log(JSON.stringify(derived, null, 2));
console.log(`wrote ${file} in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
