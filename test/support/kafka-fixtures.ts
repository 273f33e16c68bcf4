/** Helpers shared by the integration tests: feed events, read outputs, run the CLI as a process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InferenceEventContract, type InferenceEvent } from '../../schemas/index.js';
import { generateInferenceEvents } from '../../lab/generator/simple-stream.js';
import { ensureTopics } from '../../runtime/kafka/admin.js';
import { writeTopic } from '../../runtime/kafka/topic-writer.js';
import { readAll } from '../../runtime/kafka/topic-reader.js';
import { createTopicSerde } from '../../runtime/serde/index.js';
import type { Message } from '../../runtime/kafka/client.js';
import { SETTINGS, type RunConfig } from '../../runtime/config.js';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Writes `count` generated events to a new 4-partition topic; returns them in write order. */
export async function feedEvents(brokers: string, topic: string, count: number, seed = 3): Promise<InferenceEvent[]> {
  await ensureTopics(brokers, [{ topic, partitions: 4 }]);
  const events = [...generateInferenceEvents({ count, seed }).events];
  await writeTopic(events, { brokers, topic, contract: InferenceEventContract });
  return events;
}

export function headersOf(message: Message): Record<string, Buffer> {
  const headers: Record<string, Buffer> = {};
  for (const header of message.headers ?? []) for (const [name, value] of Object.entries(header)) headers[name] = value as Buffer;
  return headers;
}

/** Every InferenceEvent on `topic`, decoded, with where it sits. */
export async function readEvents(brokers: string, topic: string): Promise<{ event: InferenceEvent; partition: number; offset: number }[]> {
  const serde = createTopicSerde({ contract: InferenceEventContract, topic });
  return (await readAll(brokers, topic)).map((message) => ({
    event: serde.decode(message.value!, headersOf(message)),
    partition: message.partition,
    offset: message.offset,
  }));
}

/** A RunConfig for in-process runs, with the CLI's defaults and quiet logging. */
export function testRunConfig(brokers: string, overrides: Partial<RunConfig>): RunConfig {
  return {
    brokers,
    group: 'unset',
    topics: {},
    untilIdleMs: 2_000,
    maxUnsettled: SETTINGS.maxUnsettled.default,
    partitionHighWater: SETTINGS.partitionHighWater.default,
    batchSize: SETTINGS.batchSize.default,
    commitIntervalMs: 500,
    drainTimeoutMs: 20_000,
    allowedLatenessMs: 0,
    partitionIdleTimeoutMs: 30_000,
    startFrom: 'earliest',
    partitions: 4,
    log: () => {},
    // Groups are unique per test: so is their state, though many tests run one topology on one broker.
    ...(overrides.group === undefined ? {} : { stateNamespace: overrides.group }),
    ...overrides,
  };
}

export interface CliRun {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Runs `signalpath <args>` as its own process, under the same Node as the tests. */
export function runCli(args: readonly string[], env: Record<string, string> = {}): CliRun {
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'signalpath.js'), ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, exited };
}

/**
 * The CLI processes a test starts, so that a failing test never leaves one running: start them with
 * `start` and call `killAll` in a `finally` (a kill test's child would otherwise keep consuming, and
 * holding its group's partitions, long after the test failed).
 */
export class CliProcesses {
  readonly #running = new Set<ChildProcess>();
  #closed = false;

  start(args: readonly string[], env: Record<string, string> = {}): CliRun {
    // After killAll (a test that timed out goes on running): starting another would outlive it.
    if (this.#closed) throw new Error(`not starting signalpath ${args[0]}: this test's processes were killed`);
    const run = runCli(args, env);
    this.#running.add(run.child);
    void run.exited.then(() => this.#running.delete(run.child));
    return run;
  }

  /** SIGKILLs every process started here that has not exited; starts no more after it. */
  killAll(): void {
    this.#closed = true;
    for (const child of this.#running) child.kill('SIGKILL');
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A loopback port nobody listens on right now (for a run's metrics endpoint). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
