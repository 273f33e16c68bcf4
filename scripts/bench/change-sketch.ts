/**
 * The change sketch's cost per record, on one core: the lab generator's stream (8 fields, 50 models ×
 * 5 segments) through changeSketch (transforms, key, table update, the wrapper), without a broker.
 *
 *   npx tsx scripts/bench/change-sketch.ts [--events 500000]
 */
import { parseArgs } from 'node:util';
import { from } from 'rxjs';
import { generateStream } from '../../lab/generator/index.js';
import { changeSketch } from '../../operators/change-sketch.js';
import { testEnvelope } from '../../runtime/envelope.js';
import type { InferenceEvent } from '../../schemas/index.js';
import { sketchFieldReader, sketchTransformOf } from '../../topologies/model-monitor/sketch-evidence.js';

const { values: args } = parseArgs({ options: { events: { type: 'string', default: '500000' } } });
const FIELDS = ['latency_ms', 'confidence', 'prediction', 'output_tokens', 'features[0]', 'features[1]', 'features[2]', 'features[3]'];
const events = [...generateStream({ count: Number(args.events), seed: 1001 }).events] as InferenceEvent[];
const envelopes = events.map((event) => testEnvelope(event, { eventTimeMs: event.ts }));
const run = (): number => {
  let alarms = 0;
  const started = process.hrtime.bigint();
  from(envelopes)
    .pipe(changeSketch<InferenceEvent>({
      keyOf: (event) => `${event.model_id}\u0000${event.segment}`,
      fallbackKeyOf: (event) => event.model_id,
      fields: FIELDS.map((field) => ({ name: field, valueOf: sketchFieldReader(field), transform: sketchTransformOf(field) })),
    }))
    .subscribe((envelope) => (alarms += envelope.value.alarms.length));
  return Number(process.hrtime.bigint() - started) / 1e3 / envelopes.length;
};
run(); // warm the JIT
const runs = [run(), run(), run()].sort((a, b) => a - b);
console.log(`changeSketch: ${runs[1]!.toFixed(3)} µs per record (median of 3 runs over ${envelopes.length} records, ${FIELDS.length} fields)`);
