/**
 * What the end-to-end benchmarks share (bench:e2e, bench:model-monitor): the Node flags of measured
 * processes, the measured pass as a child process (e2e-worker.ts) that prints one JSON line, medians,
 * a percentile, and where reports go.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Node flags of the measured processes. On a machine with much memory Node 24 sizes the young
 * generation at up to 3 × 64 MB; 16 MB semi-spaces cost no throughput here and ~100 MB less RSS.
 * Deployments set the same through NODE_OPTIONS (see README, "Running in production").
 */
export const NODE_FLAGS = ['--max-semi-space-size=16'];

/** What a measured pass of e2e-worker.ts prints (fields by mode). */
export interface WorkerResult {
  readonly mode: string;
  readonly records: number;
  readonly per_s: number;
  readonly seconds: number;
  readonly peak_rss_mb: number;
  /** CPU seconds of the worker process between its first record and its last settled one. */
  readonly cpu_s?: number;
  readonly p50_ms?: number;
  readonly p99_ms?: number;
  readonly outputs?: number;
}

export interface StartedWorker {
  /** Resolves once the worker's consumer holds its partitions (it prints `{"ready":true}`). */
  readonly ready: Promise<void>;
  readonly result: Promise<WorkerResult>;
  /** Records the worker had consumed at its last progress line. */
  consumed(): number;
}

/** Starts one measured pass (`e2e-worker.ts <mode> …`) in its own process, with `env` added to ours. */
export function startWorker(args: readonly string[], env: Readonly<Record<string, string>> = {}): StartedWorker {
  const child = spawn(process.execPath, [...NODE_FLAGS, '--import', 'tsx', path.join(ROOT, 'scripts/bench/e2e-worker.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  let consumed = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    out += text;
    if (out.includes('{"ready":true}')) markReady();
    for (const match of text.matchAll(/\{"consumed":(\d+)\}/g)) consumed = Number(match[1]);
  });
  const result = new Promise<WorkerResult>((resolve, reject) =>
    child.on('exit', (code) => {
      markReady();
      if (code !== 0) return reject(new Error(`worker ${args[0]} exited ${code}`));
      resolve(JSON.parse(out.trim().split('\n').at(-1)!) as WorkerResult);
    }),
  );
  return { ready, result, consumed: () => consumed };
}

/** Runs one measured pass to its end. */
export function worker(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<WorkerResult> {
  return startWorker(args, env).result;
}

export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The p-th percentile (0–100) of `xs` by nearest rank; NaN when empty. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** A whole-number flag ≥ `min`, or an error naming it. */
export function wholeFlag(name: string, text: string | undefined, min: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} ${text}: expected a whole number ≥ ${min}`);
  return value;
}

/** Writes `reports/<name>` (JSON) and says so. */
export function writeReport(name: string, report: unknown): void {
  mkdirSync(path.join(ROOT, 'reports'), { recursive: true });
  writeFileSync(path.join(ROOT, 'reports', name), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`written reports/${name}`);
}

export const perSecond = (n: number): string => Math.round(n).toLocaleString('en');
