/**
 * `signalpath run --instances N` as a process, against the test broker: two instances of passthrough
 * share a 2-partition input in one consumer group (each gets a partition, each serves metrics on its own
 * port), a kill -9 of one child gets it restarted by the supervisor, SIGTERM to the supervisor stops
 * both, and with --exactly-once every input is on the output exactly once (the children's
 * transactional ids differ, or they would fence each other).
 */
import { createServer } from 'node:net';
import { expect } from 'chai';
import { InferenceEventContract } from '../../schemas/index.js';
import { generateInferenceEvents } from '../../lab/generator/simple-stream.js';
import { committedOffsets, endOffsets, ensureTopics } from '../../runtime/kafka/admin.js';
import { writeTopic } from '../../runtime/kafka/topic-writer.js';
import { sharedBroker, uniqueName } from '../support/broker.js';
import { CliProcesses, freePort, runCli, sleep } from '../support/kafka-fixtures.js';
import { exactlyOnceTally } from '../support/exactly-once.js';

/** Resolves once `predicate` holds (checked every 100 ms), or fails naming `what` after `timeoutMs`. */
async function waitFor(what: string, timeoutMs: number, predicate: () => boolean | Promise<boolean>, seen: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs / 1000} s: ${what}\n--- the supervisor's log:\n${seen()}`);
    await sleep(100);
  }
}

/** A port p such that p and p + 1 are free on loopback now (the metrics ports of two instances). */
async function twoFreePorts(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await freePort();
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port + 1, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no two consecutive free ports');
}

/** The input partitions each instance holds now, from its `assigned …`/`revoked …` log lines. */
function heldPartitions(log: string, input: string, index: number, after = 0): Set<number> {
  const held = new Set<number>();
  const pattern = new RegExp(`^\\[instance ${index}\\] .*(assigned|revoked) ${input} partitions \\[([\\d, ]*)\\]`, 'gm');
  for (const match of log.slice(after).matchAll(pattern)) {
    const partitions = match[2]!.split(',').filter((p) => p.trim() !== '').map(Number);
    for (const p of partitions) {
      if (match[1] === 'assigned') held.add(p);
      else held.delete(p);
    }
  }
  return held;
}

describe('integration: run --instances N', function () {
  this.timeout(120_000);
  let brokers: string;

  before(async function () {
    this.timeout(180_000);
    brokers = (await sharedBroker()).brokers;
  });

  it('two instances split a 2-partition input, a killed one is restarted, SIGTERM stops both, every record once', async () => {
    const input = uniqueName('instances-in');
    const output = uniqueName('instances-out');
    const group = uniqueName('instances');
    await ensureTopics(brokers, [{ topic: input, partitions: 2 }]);
    const events = [...generateInferenceEvents({ count: 6_000, seed: 29 }).events];
    const [firstHalf, secondHalf] = [events.slice(0, 3_000), events.slice(3_000)];
    await writeTopic(firstHalf, { brokers, topic: input, contract: InferenceEventContract });
    const metricsPort = await twoFreePorts();

    const processes = new CliProcesses();
    try {
      const run = processes.start(
        ['run', 'passthrough', '--brokers', brokers, '--group', group, '--topic', `input=${input}`, '--topic', `output=${output}`, '--partitions', '2',
          '--instances', '2', '--exactly-once', '--commit-interval', '200', '--metrics-port', String(metricsPort), '--quiet'],
        // A killed member holds its partition until its session times out: keep that short here.
        { SIGNALPATH_KAFKA_SESSION_TIMEOUT_MS: '6000' },
      );
      let log = '';
      run.child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
      const seen = (): string => log.split('\n').slice(-40).join('\n');
      const allCommitted = async (): Promise<boolean> => JSON.stringify((await committedOffsets(brokers, group, input, 2)).map((c) => c.offset)) === JSON.stringify((await endOffsets(brokers, input)).map((e) => e.offset));

      await waitFor('each instance holds one input partition', 60_000, () => heldPartitions(log, input, 0).size === 1 && heldPartitions(log, input, 1).size === 1, seen);
      expect([...heldPartitions(log, input, 0), ...heldPartitions(log, input, 1)].sort()).to.deep.equal([0, 1]);
      await waitFor('the first half is committed', 60_000, allCommitted, seen);
      for (const port of [metricsPort, metricsPort + 1]) {
        const response = await fetch(`http://127.0.0.1:${port}/metrics`);
        expect(response.status, `/metrics on ${port}`).to.equal(200);
      }

      const pidOf = (index: number, nth: number): number | undefined => {
        const starts = [...log.matchAll(new RegExp(`instance ${index}: started \\(pid (\\d+)`, 'g'))];
        return starts[nth] === undefined ? undefined : Number(starts[nth][1]);
      };
      const killed = pidOf(1, 0)!;
      process.kill(killed, 'SIGKILL');
      await waitFor('instance 1 is restarted', 30_000, () => pidOf(1, 1) !== undefined, seen);
      expect(log).to.match(/instance 1: crashed \(signal SIGKILL\).*restarting in 1\.0 s \(restart 1;/);
      expect(pidOf(1, 1)).to.not.equal(killed);
      const restartedAt = log.lastIndexOf('instance 1: started (pid');

      await writeTopic(secondHalf, { brokers, topic: input, contract: InferenceEventContract });
      await waitFor('the restarted instance holds a partition again', 60_000, () => heldPartitions(log, input, 1, restartedAt).size === 1, seen);
      await waitFor('every input is committed', 60_000, allCommitted, seen);

      run.child.kill('SIGTERM');
      const exit = await run.exited;
      expect(exit.code, seen()).to.equal(0);
      expect(log).to.match(/instance 0: exited \(exit code 0\)/);
      expect(log).to.match(/instance 1: exited \(exit code 0\)/);
      const summary = JSON.parse(exit.stdout.trim().split('\n').at(-1)!) as { reason: string; instances: number; restarts: number; perInstance: { restarts: number; summary: { reason: string } | null }[] };
      expect(summary).to.include({ reason: 'stopped', instances: 2, restarts: 1 });
      expect(summary.perInstance.map((i) => [i.restarts, i.summary?.reason])).to.deep.equal([[0, 'stopped'], [1, 'stopped']]);

      const tally = await exactlyOnceTally(brokers, events.map((e) => e.event_id), output);
      expect(tally.lost, `lost, e.g. ${tally.lostSample.join(', ')}`).to.equal(0);
      expect(tally.duplicated).to.equal(0);
    } finally {
      processes.killAll();
    }
  });

  it('rejects an invalid instance count, naming the flag or variable and what it accepts', async () => {
    const flag = await runCli(['run', 'passthrough', '--brokers', '127.0.0.1:9', '--instances', '0']).exited;
    expect(flag.code).to.equal(2);
    expect(flag.stderr).to.match(/invalid --instances: "0" — expected at least 1/);
    const variable = await runCli(['run', 'passthrough', '--brokers', '127.0.0.1:9'], { SIGNALPATH_INSTANCES: '1.5' }).exited;
    expect(variable.code).to.equal(2);
    expect(variable.stderr).to.match(/invalid SIGNALPATH_INSTANCES \(environment\): "1\.5" — expected a whole number/);
    const ports = await runCli(['run', 'passthrough', '--brokers', '127.0.0.1:9', '--instances', '4', '--metrics-port', '65533']).exited;
    expect(ports.code).to.equal(2);
    expect(ports.stderr).to.match(/--instances 4 with --metrics-port 65533: .*past 65535/);
  });
});
