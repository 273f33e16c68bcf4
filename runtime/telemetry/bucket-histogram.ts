/**
 * A fixed-bucket latency histogram kept in plain numbers, exported to Prometheus at scrape time.
 * prom-client's own `observe()` hashes its labels on every call; on this runtime's main thread that
 * costs more than the step it measures, so the hot path only finds a bucket and adds one.
 */

/** Upper bounds in milliseconds: sub-millisecond steps up to 10 s end to end. */
export const LATENCY_BOUNDS_MS: readonly number[] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

export class BucketHistogram {
  /** counts[i] = observations ≤ bounds[i] and > bounds[i-1]; the last slot is +Inf. */
  readonly counts: Float64Array;
  sumMs = 0;
  count = 0;

  constructor(readonly boundsMs: readonly number[] = LATENCY_BOUNDS_MS) {
    this.counts = new Float64Array(boundsMs.length + 1);
  }

  observe(valueMs: number): void {
    const bounds = this.boundsMs;
    let i = 0;
    while (i < bounds.length && valueMs > bounds[i]!) i++;
    this.counts[i]!++;
    this.sumMs += valueMs;
    this.count++;
  }
}

export interface PromValue {
  readonly value: number;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly metricName?: string;
}

/** The histogram's Prometheus series (cumulative buckets in seconds, `_sum`, `_count`). */
export function histogramSeries(name: string, labels: Readonly<Record<string, string>>, histogram: BucketHistogram): PromValue[] {
  const values: PromValue[] = [];
  let cumulative = 0;
  for (let i = 0; i < histogram.boundsMs.length; i++) {
    cumulative += histogram.counts[i]!;
    values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: histogram.boundsMs[i]! / 1000 }, value: cumulative });
  }
  values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: histogram.count });
  values.push({ metricName: `${name}_sum`, labels, value: histogram.sumMs / 1000 });
  values.push({ metricName: `${name}_count`, labels, value: histogram.count });
  return values;
}
