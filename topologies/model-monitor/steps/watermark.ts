/**
 * hold-watermark and release-watermark: enrichment and lanes reorder records across keys, so the
 * watermark is held back for what is still between the two steps (operators/watermark-hold.ts), and no dedup
 * window closes before its records arrive. hold-watermark also starts the enrich-delay count.
 */
import { identity, tap } from 'rxjs';
import type { Sampled } from '../../../operators/adaptive-sample.js';
import type { Detection } from '../../../operators/parallel-detect.js';
import { watermarkHold } from '../../../operators/watermark-hold.js';
import type { Envelope } from '../../../core/envelope.js';
import { withContext, type StepOperator } from '../../../runtime/topology.js';
import { EnrichDelayTracker } from '../enrich-delay.js';
import type { MonitoredEvent, ScoredEvent } from '../probe.js';
import type { MonitorContext } from './context.js';

/** Notes each record entering the held section (sets `ctx.hold` and `ctx.enrichDelay` for this chain). */
export function holdWatermarkStep(ctx: MonitorContext): StepOperator<Envelope<Sampled<ScoredEvent>>, Envelope<Sampled<ScoredEvent>>> {
  return withContext(() => {
    const hold = watermarkHold();
    const delay = new EnrichDelayTracker({ windowSizeMs: ctx.config.dedupWindowMs, counters: ctx.probe.enrichDelay });
    ctx.hold = hold;
    ctx.enrichDelay = delay;
    return (source) => source.pipe(hold.enter<Sampled<ScoredEvent>>(), tap((entered) => delay.entered(entered)));
  });
}

/** Notes each record leaving the held section, releasing the watermark it held. */
export function releaseWatermarkStep(ctx: MonitorContext): StepOperator<Envelope<Detection<MonitoredEvent>>, Envelope<Detection<MonitoredEvent>>> {
  return withContext(() => {
    const hold = ctx.hold;
    return hold === undefined ? identity : hold.leave<Detection<MonitoredEvent>>();
  });
}
