/**
 * hold-watermark and release-watermark: enrichment and lanes reorder records across keys, so the
 * watermark is held back for what is still between the two steps (operators/watermark-hold.ts), and no dedup
 * window closes before its records arrive. hold-watermark also puts the window-delay probe around
 * enrichment (enrich-delay.ts).
 */
import { identity } from 'rxjs';
import type { Sampled } from '../../../operators/adaptive-sample.js';
import type { Detection } from '../../../operators/parallel-detect.js';
import { watermarkHold } from '../../../operators/watermark-hold.js';
import { windowDelayProbe } from '../../../operators/window-delay-probe.js';
import type { Envelope } from '../../../core/envelope.js';
import { withContext, type StepOperator } from '../../../runtime/topology.js';
import { EnrichDelayTracker } from '../enrich-delay.js';
import type { MonitoredEvent, ScoredEvent } from '../probe.js';
import type { MonitorContext } from './context.js';

/** Notes each record entering the held section and enrichment (sets `ctx.hold`, `ctx.enrichProbe` and `ctx.enrichDelay` for this chain). */
export function holdWatermarkStep(ctx: MonitorContext): StepOperator<Envelope<Sampled<ScoredEvent>>, Envelope<Sampled<ScoredEvent>>> {
  return withContext(() => {
    const hold = watermarkHold();
    const enrichProbe = windowDelayProbe({ windowSizeMs: ctx.config.dedupWindowMs });
    ctx.hold = hold;
    ctx.enrichProbe = enrichProbe;
    ctx.enrichDelay = new EnrichDelayTracker({ counters: ctx.probe.enrichDelay });
    return (source) => source.pipe(hold.enter<Sampled<ScoredEvent>>(), enrichProbe.enter<Sampled<ScoredEvent>>());
  });
}

/** Notes each record leaving the held section, releasing the watermark it held. */
export function releaseWatermarkStep(ctx: MonitorContext): StepOperator<Envelope<Detection<MonitoredEvent>>, Envelope<Detection<MonitoredEvent>>> {
  return withContext(() => {
    const hold = ctx.hold;
    return hold === undefined ? identity : hold.leave<Detection<MonitoredEvent>>();
  });
}
