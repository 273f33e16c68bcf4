/**
 * CPU seconds and peak resident memory of this process, for the run summary. Both are the kernel's
 * figures for the whole process (every thread: librdkafka's too), since the topology process is what
 * a deployment pays for.
 */
export interface ProcessUsage {
  /** User + system CPU time since the process started, seconds. */
  readonly cpu_s: number;
  /** Peak resident set size, MB (the kernel's maxrss). */
  readonly peak_rss_mb: number;
}

export function processUsage(): ProcessUsage {
  const cpu = process.cpuUsage();
  return {
    cpu_s: (cpu.user + cpu.system) / 1e6,
    // resourceUsage().maxRSS is in kilobytes.
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  };
}
