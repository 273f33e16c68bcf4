/**
 * The change sketch's CPU cost per record (user + system CPU time, so other load on the machine does
 * not count), through the operator and for its table alone: the lab generator's stream (8 fields, 50 models ×
 * 5 segments) through changeSketch (transforms, key, table update, the wrapper), without a broker.
 *
 *   npx tsx scripts/bench/change-sketch.ts [--events 500000] [--level-scales]
 *
 * `--level-scales`: with a `levelScales` source (all factors 1, as model-monitor's recalibration
 * before any label), to measure what reading the factors costs.
 */
import { parseArgs } from 'node:util';
import { from } from 'rxjs';
import { generateStream } from '../../lab/generator/index.js';
import { changeSketch } from '../../operators/change-sketch.js';
import { SketchTable } from '../../operators/change-sketch/sketch-table.js';
import { testEnvelope } from '../../core/envelope.js';
import type { InferenceEvent } from '../../schemas/index.js';
import { sketchFieldReader, sketchTransformOf } from '../../topologies/model-monitor/sketch-evidence.js';

const { values: args } = parseArgs({ options: { events: { type: 'string', default: '500000' }, 'level-scales': { type: 'boolean', default: false } } });
const levelScales = args['level-scales'] ? { levelScales: { version: 0, scaleOf: () => 1 } } : {};
const FIELDS = ['latency_ms', 'confidence', 'prediction', 'output_tokens', 'features[0]', 'features[1]', 'features[2]', 'features[3]'];
const events = [...generateStream({ count: Number(args.events), seed: 1001 }).events] as InferenceEvent[];
const envelopes = events.map((event) => testEnvelope(event, { eventTimeMs: event.ts }));
const run = (): number => {
  let alarms = 0;
  // CPU time, not wall time: the figure is the cost on one core, whatever else the machine runs.
  const started = process.cpuUsage();
  from(envelopes)
    .pipe(changeSketch<InferenceEvent>({
      keyOf: (event) => `${event.model_id}\u0000${event.segment}`,
      fallbackKeyOf: (event) => event.model_id,
      fields: FIELDS.map((field) => ({ name: field, valueOf: sketchFieldReader(field), transform: sketchTransformOf(field) })),
      ...levelScales,
    }))
    .subscribe((envelope) => (alarms += envelope.value.alarms.length));
  const used = process.cpuUsage(started);
  return (used.user + used.system) / envelopes.length;
};
run(); // warm the JIT
const runs = [run(), run(), run()].sort((a, b) => a - b);
console.log(`changeSketch: ${runs[1]!.toFixed(3)} µs of CPU per record (median of 3 runs over ${envelopes.length} records, ${FIELDS.length} fields)`);
// The table alone (key strings and raw values prepared beforehand): what the arithmetic costs.
const readers = FIELDS.map(sketchFieldReader);
const keys = events.map((event) => `${event.model_id}\u0000${event.segment}`);
const raw = events.map((event) => Float64Array.from(readers, (read) => read(event) ?? NaN));
const tableOnly = (): number => {
  const table = new SketchTable({ fields: FIELDS, transforms: FIELDS.map(sketchTransformOf), level: { falseAlarmsPerHour: 1 }, ...levelScales });
  const started = process.cpuUsage();
  for (let i = 0; i < events.length; i++) table.update(keys[i]!, events[i]!.model_id, events[i]!.ts, raw[i]!);
  const used = process.cpuUsage(started);
  return (used.user + used.system) / events.length;
};
tableOnly();
const tableRuns = [tableOnly(), tableOnly(), tableOnly()].sort((a, b) => a - b);
console.log(`SketchTable alone: ${tableRuns[1]!.toFixed(3)} µs of CPU per record`);
