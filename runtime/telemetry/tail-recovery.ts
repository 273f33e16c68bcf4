/**
 * Tail recovery time: after a latency spike, how long end-to-end p99 stays above its threshold.
 *
 * Every interval (a second) brings the interval's p99. Outside a spike the threshold is `factor` × the
 * running p99 (the tail-capture threshold, over the last 10–20 s); an interval above it starts an
 * episode and freezes the threshold (the running p99 follows the spike, so it cannot say when the
 * spike is over). The episode ends at the first interval back at or below the frozen threshold; its
 * length is the recovery time. Intervals without records leave an episode open.
 */
export class TailRecovery {
  /** Milliseconds of the last finished episode, or null before any. */
  lastRecoveryMs: number | null = null;
  /** Longest finished episode, ms. */
  maxRecoveryMs = 0;
  episodes = 0;
  /** Start of the episode under way (epoch ms), or null. */
  activeSinceMs: number | null = null;
  /** The frozen threshold of the episode under way, ms. */
  thresholdMs: number | null = null;

  constructor(readonly factor = 2) {
    if (!(factor >= 1)) throw new RangeError(`tail recovery factor ${factor}: expected a number ≥ 1, e.g. 2`);
  }

  /** One interval: its p99 (null without records) and the running p99 before it (Infinity while warming up). */
  observe(nowMs: number, intervalP99Ms: number | null, runningP99Ms: number): void {
    if (intervalP99Ms === null) return;
    if (this.activeSinceMs === null) {
      if (!Number.isFinite(runningP99Ms)) return;
      const threshold = this.factor * runningP99Ms;
      if (intervalP99Ms > threshold) {
        this.activeSinceMs = nowMs;
        this.thresholdMs = threshold;
      }
      return;
    }
    if (intervalP99Ms <= this.thresholdMs!) {
      const spentMs = nowMs - this.activeSinceMs;
      this.lastRecoveryMs = spentMs;
      if (spentMs > this.maxRecoveryMs) this.maxRecoveryMs = spentMs;
      this.episodes++;
      this.activeSinceMs = null;
      this.thresholdMs = null;
    }
  }

  /** How long the episode under way has lasted, or 0. */
  activeForMs(nowMs: number): number {
    return this.activeSinceMs === null ? 0 : nowMs - this.activeSinceMs;
  }
}

/**
 * The `p`-th percentile (0–100) of observations counted per bucket (`counts[i]` ≤ `boundsMs[i]`, the
 * last slot +Inf), interpolated linearly within its bucket; null without observations.
 */
export function bucketPercentile(boundsMs: readonly number[], counts: ArrayLike<number>, p: number): number | null {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  if (total === 0) return null;
  const rank = (p / 100) * total;
  let cumulative = 0;
  for (let i = 0; i < counts.length; i++) {
    const inBucket = counts[i]!;
    if (inBucket > 0 && cumulative + inBucket >= rank) {
      if (i >= boundsMs.length) return boundsMs[boundsMs.length - 1]!;
      const lower = i === 0 ? 0 : boundsMs[i - 1]!;
      return lower + ((rank - cumulative) / inBucket) * (boundsMs[i]! - lower);
    }
    cumulative += inBucket;
  }
  return boundsMs[boundsMs.length - 1]!;
}
