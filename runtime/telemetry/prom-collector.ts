/**
 * Metrics whose values are read at scrape time: the hot path keeps plain numbers, and `/metrics`
 * turns them into Prometheus series. prom-client's registry accepts any object with a name, help,
 * type and `get()`; this is that object.
 */
import type { Registry } from 'prom-client';
import type { PromValue } from './bucket-histogram.js';

export interface CollectedMetric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly collect: () => PromValue[];
}

export function registerCollected(registry: Registry, metric: CollectedMetric): void {
  const collected = {
    name: metric.name,
    help: metric.help,
    type: metric.type,
    aggregator: 'sum',
    get: () => ({ name: metric.name, help: metric.help, type: metric.type, aggregator: 'sum', values: metric.collect() }),
    reset: () => {},
  };
  (registry as unknown as { registerMetric(m: unknown): void }).registerMetric(collected);
}
