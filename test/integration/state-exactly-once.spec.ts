/**
 * --exactly-once against the real broker: a topology process killed with SIGKILL at several points
 * and restarted leaves, in `read_committed` output, every input exactly once — 0 lost, 0 duplicated —
 * while the same kills leave duplicates in the uncommitted log (the aborted transactions' records).
 * The topology keeps detector state, so its changelog writes go through the transactions too.
 *
 * Size: STATE_EOS_RECORDS (default 40 000) records and STATE_EOS_KILLS (default 3) kills.
 */
import { expect } from 'chai';
import path from 'node:path';
import { committedOffsets, endOffsets } from '../../runtime/kafka/admin.js';
import { changelogTopic } from '../../runtime/state/changelog.js';
import { entriesAlong } from '../support/memory-changelog.js';
import { sharedBroker, uniqueName } from '../support/broker.js';
import { exactlyOnceTally, readIsolated } from '../support/exactly-once.js';
import { CliProcesses, feedEvents, PROJECT_ROOT } from '../support/kafka-fixtures.js';

const RECORDS = Number(process.env['STATE_EOS_RECORDS'] ?? 40_000);
const KILLS = Number(process.env['STATE_EOS_KILLS'] ?? 3);

async function totalEnd(brokers: string, topic: string, isolation: 'read_committed' | 'read_uncommitted' = 'read_uncommitted'): Promise<number> {
  return (await endOffsets(brokers, topic, undefined, { 'isolation.level': isolation })).reduce((sum, e) => sum + e.offset, 0);
}

/**
 * Waits (at most `withinMs`) until `topic` has records of an open transaction: its high watermark is
 * past its last stable offset (what a read_committed consumer is told the end is). A kill then lands
 * inside a transaction, which is what this test is about; true when one was seen.
 */
async function openTransactionSeen(brokers: string, topic: string, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    const [stable, high] = await Promise.all([totalEnd(brokers, topic, 'read_committed'), totalEnd(brokers, topic)]).catch(() => [0, 0]);
    if (high > stable) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

describe('integration: --exactly-once', function () {
  this.timeout(600_000);
  let brokers: string;

  before(async () => {
    brokers = (await sharedBroker()).brokers;
  });

  it(`kill -9 at ${KILLS} points of a ${RECORDS}-record stream: read_committed output has every input once`, async () => {
    const input = uniqueName('eos-in');
    const output = uniqueName('eos-out');
    const group = uniqueName('eos');
    const events = await feedEvents(brokers, input, RECORDS, 9);
    const args = [
      'run', path.join(PROJECT_ROOT, 'test/fixtures/topologies/stateful.ts'),
      '--brokers', brokers, '--group', group, '--topic', `input=${input}`, '--topic', `output=${output}`,
      '--exactly-once', '--commit-interval', '300', '--state-snapshot-interval', '1000', '--metrics-port', '0', '--max-unsettled', '5000', '--batch-size', '500',
      // A partition read to its end before a kill yields no record after the restart, so watermark
      // alignment holds the other partitions until it counts as idle (default 30 s): keep that short.
      '--partition-idle-timeout', '2000',
    ];
    // A killed member holds its partitions until its session times out: keep that short here.
    const env = { SIGNALPATH_KAFKA_SESSION_TIMEOUT_MS: '6000', SIGNALPATH_INSTANCE_ID: 'eos-test' };

    const processes = new CliProcesses();
    const killedAt: number[] = [];
    let lastLog: string;
    try {
      for (let kill = 1; kill <= KILLS; kill++) {
        const run = processes.start(args, env);
        // Kill points spread over the stream, counted in produced (not yet committed) output records.
        const target = Math.floor((RECORDS * kill) / (KILLS + 1));
        const deadline = Date.now() + 120_000;
        while ((await totalEnd(brokers, output).catch(() => 0)) < target) {
          if (Date.now() > deadline) {
            run.child.kill('SIGTERM');
            const out = await run.exited;
            throw new Error(`run ${kill} did not reach ${target} output records (it reached ${await totalEnd(brokers, output).catch(() => -1)}); its output ended:\n${(out.stdout + out.stderr).split('\n').slice(-25).join('\n')}`);
          }
          if (run.child.exitCode !== null) throw new Error(`run ${kill} exited early: ${(await run.exited).stderr}`);
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        if (!(await openTransactionSeen(brokers, output, 10_000))) console.log(`      kill ${kill}: no open transaction seen within 10 s; killing anyway`);
        run.child.kill('SIGKILL');
        const exit = await run.exited;
        expect(exit.signal).to.equal('SIGKILL');
        killedAt.push(target);
      }
      const lastExit = await processes.start([...args, '--until-idle', '3000'], env).exited;
      expect(lastExit.code, lastExit.stderr).to.equal(0);
      lastLog = lastExit.stderr;
    } finally {
      processes.killAll();
    }

    const ends = await endOffsets(brokers, input);
    expect(await committedOffsets(brokers, group, input, ends.length), `the last instance's log ended:\n${lastLog.split('\n').slice(-30).join('\n')}`).to.deep.equal(ends);

    const { lost, duplicated, abortedCopies } = await exactlyOnceTally(brokers, events.map((e) => e.event_id), output);
    // The changelog is written in the same transactions: its committed entries are readable.
    // Named after the group (the default namespace); chunked snapshots assemble from it.
    const changelog = await readIsolated(brokers, changelogTopic(group, 'detect'), 'read_committed');
    const entries = entriesAlong(changelog);

    console.log(
      `      exactly-once: ${RECORDS} records, ${KILLS} × kill -9 (at ${killedAt.join(', ')} produced outputs): ` +
        `read_committed ${lost} lost, ${duplicated} duplicated; read_uncommitted holds ${abortedCopies} aborted copies; ${entries.length} committed changelog entries`,
    );
    expect(lost).to.equal(0);
    expect(duplicated).to.equal(0);
    expect(entries.length).to.be.greaterThan(0);
    // The kills landed inside open transactions: otherwise this test would not test aborts.
    expect(abortedCopies).to.be.greaterThan(0);
  });
});
