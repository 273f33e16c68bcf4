/**
 * `signalpath run <topology> --instances N`: N processes of the same command on this host, in one
 * consumer group. Kafka's partition assignment spreads the input's partitions over them, as Kafka
 * Streams spreads them over `num.stream.threads`; a Node process runs JavaScript on one core, so this is
 * how a run uses the cores of a host (docs/scaling.md relates it to replicas in Kubernetes).
 *
 * The supervisor (this module, in the process the user started) re-runs its own command line
 * (`process.execPath`, `process.execArgv`, `process.argv[1]` and the same arguments) once per
 * instance, with SIGNALPATH_INSTANCE_INDEX=i in the environment; a child with an index runs one
 * instance (run-command.ts): metrics on `--metrics-port` + i, `--instance-id` suffixed with `-i`.
 * Each child's log lines reach stderr prefixed `[instance i]`; its final summary line is collected, and
 * the supervisor prints one summary of all instances.
 *
 * - SIGTERM or SIGINT: SIGTERM to every child, wait for all to exit (each drains and commits); exit 0
 *   when every child exited 0, else 1.
 * - A child that exits non-zero (or is killed) while no shutdown is under way crashed: it is started
 *   again with the same index after a backoff (restart-policy.ts: 1 s doubling to 30 s, at most 5
 *   restarts in 10 min). Past the bound the supervisor stops the others and exits 1. A child that exits
 *   2 (a configuration error) is not restarted: the supervisor stops the others and exits 2.
 * - A child that exits 0 (`--until-idle`) is done; the supervisor exits once all are.
 * - The children hold an IPC channel to the supervisor: if the supervisor dies without stopping them
 *   (kill -9), each sees the channel close and drains as on SIGTERM, so none is left orphaned.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ConfigError } from '../runtime/config.js';
import { RestartPolicy, type RestartPolicyOptions } from './restart-policy.js';

/** The environment variable that makes a `run` process one instance of a supervisor's N. */
export const INSTANCE_INDEX_ENV = 'SIGNALPATH_INSTANCE_INDEX';

/** This process's instance index (0-based) when a supervisor started it; undefined otherwise. */
export function instanceIndexFrom(env: NodeJS.ProcessEnv): number | undefined {
  const text = env[INSTANCE_INDEX_ENV];
  if (text === undefined || text === '') return undefined;
  const index = Number(text);
  if (!/^\d+$/.test(text) || index > 255) throw new ConfigError(`${INSTANCE_INDEX_ENV} ${JSON.stringify(text)}: expected a whole number from 0 to 255 (the supervisor of --instances sets it; leave it unset)`);
  return index;
}

export interface InstancesOptions {
  /** Processes to run (≥ 2; one instance runs in the process itself). */
  readonly count: number;
  /** Brokers the supervisor started locally (children get them as KAFKA_BROKERS); undefined: the children read the flag or variable themselves. */
  readonly brokers: string | undefined;
  /** The base metrics port (instance i serves on base + i); 0 = none. For the log only: the children compute their port. */
  readonly metricsPort: number;
  readonly log: (message: string) => void;
  readonly restartPolicy?: RestartPolicyOptions;
}

/** How one instance ended: its last process's exit and summary, and how often it was restarted. */
export interface InstanceOutcome {
  readonly index: number;
  readonly restarts: number;
  readonly exit: { readonly code: number | null; readonly signal: NodeJS.Signals | null };
  /** The run summary its last process printed; null when it printed none (killed, or failed before running). */
  readonly summary: Readonly<Record<string, unknown>> | null;
}

export interface InstancesSummary {
  readonly reason: 'idle' | 'stopped' | 'fatal';
  readonly instances: number;
  readonly restarts: number;
  /** Sums over the instances' last processes (a crashed process's counts are lost with it). */
  readonly consumed: number;
  readonly produced: number;
  readonly deadLettered: number;
  readonly cpu_s: number;
  /** Sum of the instances' peak RSS: an upper bound of the host's peak. */
  readonly peak_rss_mb: number;
  readonly perInstance: readonly InstanceOutcome[];
}

interface Instance {
  readonly index: number;
  readonly policy: RestartPolicy;
  child: ChildProcess | null;
  startedAt: number;
  restarts: number;
  restartTimer: NodeJS.Timeout | null;
  summary: Record<string, unknown> | null;
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
}

/** Runs `count` instances until all have exited; installs SIGTERM/SIGINT handlers for that time. */
export async function runInstances(options: InstancesOptions): Promise<{ exitCode: number; summary: InstancesSummary }> {
  const { count, log } = options;
  const instances: Instance[] = Array.from({ length: count }, (_, index) => ({
    index,
    policy: new RestartPolicy(options.restartPolicy),
    child: null,
    startedAt: 0,
    restarts: 0,
    restartTimer: null,
    summary: null,
    exit: null,
  }));
  let stopping: 'signal' | 'failure' | null = null;
  let failureExitCode = 0;
  let resolveAll!: () => void;
  const allExited = new Promise<void>((resolve) => (resolveAll = resolve));
  const portOf = (index: number): string => (options.metricsPort === 0 ? 'no metrics endpoint' : `metrics on port ${options.metricsPort + index}`);

  const settleIfDone = (): void => {
    if (instances.every((i) => i.child === null && i.restartTimer === null)) resolveAll();
  };

  const stopAll = (why: 'signal' | 'failure'): void => {
    stopping ??= why;
    for (const instance of instances) {
      if (instance.restartTimer !== null) {
        clearTimeout(instance.restartTimer);
        instance.restartTimer = null;
      }
      instance.child?.kill('SIGTERM');
    }
    settleIfDone();
  };

  const start = (instance: Instance): void => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...process.argv.slice(2)], {
      env: { ...process.env, [INSTANCE_INDEX_ENV]: String(instance.index), ...(options.brokers === undefined ? {} : { KAFKA_BROKERS: options.brokers }) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    instance.child = child;
    instance.startedAt = Date.now();
    instance.summary = null;
    log(`instance ${instance.index}: started (pid ${child.pid}, ${portOf(instance.index)})`);
    const prefix = `[instance ${instance.index}] `;
    createInterface({ input: child.stderr! }).on('line', (line) => process.stderr.write(`${prefix}${line}\n`));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      // The child's stdout carries its summary (one JSON line); anything else is passed on as a log line.
      try {
        const parsed = JSON.parse(line) as unknown;
        if (parsed !== null && typeof parsed === 'object' && 'reason' in parsed) {
          instance.summary = parsed as Record<string, unknown>;
          return;
        }
      } catch {
        // not the summary
      }
      process.stderr.write(`${prefix}${line}\n`);
    });
    child.once('exit', (code, signal) => onExit(instance, code, signal));
    child.once('error', (error) => log(`instance ${instance.index}: ${error.message}`));
  };

  const onExit = (instance: Instance, code: number | null, signal: NodeJS.Signals | null): void => {
    instance.child = null;
    instance.exit = { code, signal };
    const ranForMs = Date.now() - instance.startedAt;
    const how = signal === null ? `exit code ${code}` : `signal ${signal}`;
    if (stopping !== null || code === 0) {
      log(`instance ${instance.index}: exited (${how}) after ${(ranForMs / 1000).toFixed(1)} s`);
      settleIfDone();
      return;
    }
    if (code === 2) {
      log(`instance ${instance.index}: configuration error (exit code 2); stopping the others`);
      failureExitCode = 2;
      stopAll('failure');
      return;
    }
    const decision = instance.policy.onCrash(Date.now(), ranForMs);
    if (!decision.restart) {
      log(`instance ${instance.index}: crashed (${how}) after ${(ranForMs / 1000).toFixed(1)} s; ${decision.restartsInWindow} restarts within ${instance.policy.windowMs / 60_000} min already: giving up, stopping the others`);
      failureExitCode = 1;
      stopAll('failure');
      return;
    }
    instance.restarts++;
    log(`instance ${instance.index}: crashed (${how}) after ${(ranForMs / 1000).toFixed(1)} s; restarting in ${(decision.afterMs / 1000).toFixed(1)} s (restart ${instance.restarts}; ${decision.restartsInWindow} of at most ${instance.policy.maxRestarts} within ${instance.policy.windowMs / 60_000} min)`);
    instance.restartTimer = setTimeout(() => {
      instance.restartTimer = null;
      if (stopping === null) start(instance);
      else settleIfDone();
    }, decision.afterMs);
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    log(`${signal}: stopping ${count} instances (each drains and commits)…`);
    stopAll('signal');
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  log(`starting ${count} instances in one consumer group`);
  for (const instance of instances) start(instance);
  try {
    await allExited;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }

  const perInstance: InstanceOutcome[] = instances.map((i) => ({ index: i.index, restarts: i.restarts, exit: i.exit ?? { code: null, signal: null }, summary: i.summary }));
  const failedAtEnd = perInstance.some((i) => i.exit.code !== 0);
  const exitCode = failureExitCode !== 0 ? failureExitCode : failedAtEnd ? 1 : 0;
  const sum = (field: string): number => perInstance.reduce((total, i) => total + (typeof i.summary?.[field] === 'number' ? (i.summary[field] as number) : 0), 0);
  const summary: InstancesSummary = {
    reason: exitCode !== 0 ? 'fatal' : stopping === 'signal' ? 'stopped' : 'idle',
    instances: count,
    restarts: perInstance.reduce((total, i) => total + i.restarts, 0),
    consumed: sum('consumed'),
    produced: sum('produced'),
    deadLettered: sum('deadLettered'),
    cpu_s: Math.round(sum('cpu_s') * 100) / 100,
    peak_rss_mb: Math.round(sum('peak_rss_mb')),
    perInstance,
  };
  return { exitCode, summary };
}
