/**
 * hold-watermark and release-watermark: enrichment and lanes reorder records across keys, so the
 * watermark is held back for what is still between the two steps (event-time-hold.ts), and no dedup
 * window closes before its records arrive. hold-watermark also starts the enrich-delay count.
 */
import { map } from 'rxjs';
import type { Sampled } from '../../../operators/adaptive-sample.js';
import type { Detection } from '../../../operators/parallel-detect.js';
import type { Envelope } from '../../../core/envelope.js';
import { withContext, type StepOperator } from '../../../runtime/topology.js';
import { EnrichDelayTracker } from '../enrich-delay.js';
import { EventTimeHold } from '../event-time-hold.js';
import type { MonitoredEvent, ScoredEvent } from '../probe.js';
import type { MonitorContext } from './context.js';

/** Notes each record entering the held section (sets `ctx.hold` and `ctx.enrichDelay` for this chain). */
export function holdWatermarkStep(ctx: MonitorContext): StepOperator<Envelope<Sampled<ScoredEvent>>, Envelope<Sampled<ScoredEvent>>> {
  return withContext(() => {
    const hold = new EventTimeHold();
    const delay = new EnrichDelayTracker({ windowSizeMs: ctx.config.dedupWindowMs, counters: ctx.probe.enrichDelay });
    ctx.hold = hold;
    ctx.enrichDelay = delay;
    return map((envelope: Envelope<Sampled<ScoredEvent>>) => {
      const entered = hold.enter(envelope);
      delay.entered(entered);
      return entered;
    });
  });
}

/** Notes each record leaving the held section, releasing the watermark it held. */
export function releaseWatermarkStep(ctx: MonitorContext): StepOperator<Envelope<Detection<MonitoredEvent>>, Envelope<Detection<MonitoredEvent>>> {
  return withContext(() => {
    const hold = ctx.hold;
    return map((envelope: Envelope<Detection<MonitoredEvent>>) => hold?.leave(envelope) ?? envelope);
  });
}
