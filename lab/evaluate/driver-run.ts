/**
 * model-monitor on a generated stream without a broker: the topology test driver (in process), the
 * lab's model registry on loopback, the mentions scored against the ground truth. Runs of the same
 * stream and settings vary a little (the bandit's allocation follows the findings as they come, and the
 * asynchronous steps interleave differently): the stream is the same, the mentions may not be. What
 * `scripts/profile-matrix.ts` runs per profile × budget × seed; `scripts/diagnose-recall.ts` does the
 * same with a tap after every step.
 *
 * Events go in batches of 500, yielding between them as a consumer's poll loop does: enrichment is
 * asynchronous, so piping everything at once would hold every record in the enrich step until the
 * input ends.
 */
import { generateStream, type GroundTruth, type StreamOptions } from '../generator/index.js';
import { startModelRegistry } from '../model-registry/index.js';
import { TopologyTestDriver } from '../../runtime/testing/topology-test-driver.js';
import type { Mention } from '../../schemas/index.js';
import { readModelMonitorConfig, type ModelMonitorConfig } from '../../topologies/model-monitor/config.js';
import { createModelMonitor } from '../../topologies/model-monitor/topology.js';
import { scoreMentions, type MentionScore, type ScoreOptions } from './score-mentions.js';

export interface DriverRunOptions {
  readonly stream: StreamOptions;
  /** MODEL_MONITOR_* variables (the caller's environment, usually); `overrides` win over them. */
  readonly env: NodeJS.ProcessEnv;
  readonly overrides?: Partial<ModelMonitorConfig>;
  readonly score?: ScoreOptions;
  /** Called with the events piped so far, every batch. */
  readonly onProgress?: (piped: number) => void;
}

export interface DriverRunResult {
  readonly mentions: readonly Mention[];
  readonly truth: GroundTruth;
  readonly score: MentionScore;
  /** Records the sampler let through. */
  readonly sampled: number;
}

const BATCH = 500;

export async function runModelMonitorOnDriver(options: DriverRunOptions): Promise<DriverRunResult> {
  const registry = await startModelRegistry({ errorRate: 0 });
  try {
    const stream = generateStream(options.stream);
    const config = readModelMonitorConfig(options.env, { registryUrl: registry.url, ...options.overrides });
    const { topology, probe } = createModelMonitor(config);
    const driver = new TopologyTestDriver(topology, 5_000);
    let batch: { key: string; value: (typeof stream.events extends Iterable<infer E> ? E : never); eventTimeMs: number }[] = [];
    let piped = 0;
    for (const event of stream.events) {
      batch.push({ key: event.model_id, value: event, eventTimeMs: event.ts });
      if (batch.length < BATCH) continue;
      driver.pipe(batch);
      piped += batch.length;
      batch = [];
      options.onProgress?.(piped);
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (batch.length > 0) driver.pipe(batch);
    const result = await driver.completeAsync();
    const mentions = result.outputs['mentions'] as Mention[];
    const truth = stream.truth();
    return { mentions, truth, score: scoreMentions(mentions, truth, options.score), sampled: probe.sampled };
  } finally {
    await registry.stop();
  }
}
