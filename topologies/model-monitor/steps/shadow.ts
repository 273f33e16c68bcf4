/**
 * Shadow detectors: a side path from the `shadow` step (after validate) to the last one, `shadow-out`,
 * which routes the shadow mentions to `mentions.shadow` (shadow-path.ts). Without
 * MODEL_MONITOR_SHADOW_DETECTORS neither step is in the chain.
 */
import type { Envelope } from '../../../core/envelope.js';
import { withContext, type RoutedEnvelope, type StepChain } from '../../../runtime/topology.js';
import type { InferenceEvent } from '../../../schemas/index.js';
import { ShadowPath } from '../shadow-path.js';
import type { MonitorContext } from './context.js';

/** Appends the `shadow` step, which builds this chain's shadow path and taps the records into it. */
export function withShadowTap(ctx: MonitorContext, chain: StepChain<Envelope<InferenceEvent>>): StepChain<Envelope<InferenceEvent>> {
  const { config, probe } = ctx;
  if (config.shadowDetectors.length === 0) return chain;
  const options = { specs: config.shadowDetectors, fields: config.fields, falseAlarmsPerHour: config.falseAlarmsPerHour, maxKeys: config.sketchMaxKeys, relativeToFallback: config.sketchRelative, peerWindowMs: config.sketchPeerWindowMs, minEpisodeMs: config.sketchMinEpisodeMs, evidencePerWindow: config.sketchEvidencePerWindow, dedupWindowMs: config.dedupWindowMs, dedupMode: config.dedupMode };
  return chain.step('shadow', withContext((context) => {
    const shadow = new ShadowPath(options);
    ctx.shadow = shadow;
    probe.shadow = () => shadow.counts();
    return shadow.tap(context.state);
  }));
}

/** Appends the `shadow-out` step, which joins the shadow mentions to the routed outputs as `shadow`. */
export function withShadowJoin(ctx: MonitorContext, chain: StepChain<RoutedEnvelope>): StepChain<RoutedEnvelope> {
  return ctx.config.shadowDetectors.length === 0 ? chain : chain.step('shadow-out', withContext(() => ctx.shadow!.join('shadow')));
}
