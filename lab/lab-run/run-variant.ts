/**
 * Runs one lab variant as its own `signalpath run model-monitor` child process: its own consumer
 * group over the shared input topic, its own mentions topics, its variables choosing the variant,
 * `--until-idle` to end once the input is consumed, `--summary` for spend, CPU and RSS.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LabVariant } from './variants.js';

const SIGNALPATH_BIN = fileURLToPath(new URL('../../bin/signalpath.js', import.meta.url));

export interface VariantTopics {
  readonly input: string;
  readonly mentions: string;
  readonly review: string;
  readonly dlq: string;
}

export interface RunVariantOptions {
  readonly variant: LabVariant;
  readonly brokers: string;
  readonly group: string;
  readonly topics: VariantTopics;
  readonly registryUrl: string;
  /** Where the child's run summary and its log go. */
  readonly summaryFile: string;
  readonly logFile: string;
  /** Extra environment (unit prices, Node options). */
  readonly env?: Readonly<Record<string, string>>;
  /** How long the input must be idle before the child ends, ms. */
  readonly untilIdleMs: number;
  /** Called with the records consumed so far, as the child reports them. */
  readonly onConsumed?: (consumed: number) => void;
}

/** Resolves when the child has exited 0 (its summary file is then written); rejects otherwise. */
export function runVariant(options: RunVariantOptions): Promise<void> {
  const args = [
    SIGNALPATH_BIN, 'run', 'model-monitor',
    '--brokers', options.brokers,
    '--group', options.group,
    // Each variant's state is its own: variants differ in configuration and must not restore another's.
    '--state-namespace', options.group,
    '--topic', `input=${options.topics.input}`,
    '--topic', `mentions=${options.topics.mentions}`,
    '--topic', `review=${options.topics.review}`,
    '--topic', `dlq=${options.topics.dlq}`,
    '--until-idle', String(options.untilIdleMs),
    '--start-from', 'earliest',
    '--metrics-port', '0',
    // Samplers hold an epoch's records until the watermark closes it: room for a few epochs of every
    // partition (as the demo gives it).
    '--max-unsettled', '100000',
    '--partition-high-water', '50000',
    '--summary', options.summaryFile,
  ];
  const env = { ...process.env, ...options.env, ...options.variant.env, MODEL_REGISTRY_URL: options.registryUrl };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const log = createWriteStream(options.logFile);
    let tail = '';
    child.stderr.on('data', (chunk: Buffer) => {
      log.write(chunk);
      tail = (tail + chunk.toString('utf8')).slice(-4000);
      // The run command logs "consumed N · …" every few seconds.
      for (const match of chunk.toString('utf8').matchAll(/consumed (\d+) ·/g)) options.onConsumed?.(Number(match[1]));
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      log.end();
      if (code === 0) resolve();
      else reject(new Error(`variant ${options.variant.name} exited with ${signal ?? `code ${code}`} (log ${path.relative(process.cwd(), options.logFile)}): ${tail.split('\n').slice(-4).join(' | ')}`));
    });
  });
}
