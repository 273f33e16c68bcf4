/**
 * The topology as a process, driven through the CLI exactly as other tools drive it: graceful
 * shutdown on SIGTERM, kill -9 and restart without loss, and bad configuration failing at start.
 */
import { expect } from 'chai';
import { committedOffsets, endOffsets } from '../../runtime/kafka/admin.js';
import { sharedBroker, uniqueName } from '../support/broker.js';
import { feedEvents, readEvents, runCli, sleep } from '../support/kafka-fixtures.js';

describe('integration: topology process lifecycle', function () {
  this.timeout(300_000);
  let brokers: string;

  before(async () => {
    brokers = (await sharedBroker()).brokers;
  });

  /** Waits until the group has committed at least `atLeast` records on `topic`: the process is mid-stream. */
  async function waitForCommits(group: string, topic: string, atLeast: number): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const committed = await committedOffsets(brokers, group, topic, 4);
      if (committed.reduce((sum, c) => sum + Math.max(0, c.offset), 0) >= atLeast) return;
      await sleep(50);
    }
    throw new Error(`the topology committed fewer than ${atLeast} records within 60 s`);
  }

  it('drains on SIGTERM mid-stream: exits 0 with every settled offset committed and nothing lost below them', async () => {
    const input = uniqueName('term-in');
    const output = uniqueName('term-out');
    const group = uniqueName('term');
    await feedEvents(brokers, input, 150_000);
    const run = runCli(['run', 'passthrough', '--brokers', brokers, '--group', group, '--topic', `input=${input}`, '--topic', `output=${output}`, '--drain-timeout', '15000', '--commit-interval', '200', '--quiet']);
    await waitForCommits(group, input, 1);
    const signalledAt = Date.now();
    run.child.kill('SIGTERM');
    const exit = await run.exited;
    const tookMs = Date.now() - signalledAt;
    expect(exit.code, exit.stderr).to.equal(0);
    expect(tookMs).to.be.below(15_000 + 10_000);
    const summary = JSON.parse(exit.stdout.trim().split('\n').at(-1)!) as { reason: string; drained: boolean; consumed: number };
    expect(summary.reason).to.equal('stopped');
    expect(summary.drained).to.equal(true);

    // Everything below each committed offset reached the output.
    const committed = await committedOffsets(brokers, group, input, 4);
    const inputs = await readEvents(brokers, input);
    const outputIds = new Set((await readEvents(brokers, output)).map((o) => o.event.event_id));
    const committedInputs = inputs.filter((i) => i.offset < committed.find((c) => c.partition === i.partition)!.offset);
    expect(committedInputs.length).to.be.greaterThan(0);
    expect(committedInputs.length).to.equal(summary.consumed);
    for (const { event } of committedInputs) expect(outputIds.has(event.event_id)).to.equal(true);
  });

  it('survives kill -9 mid-stream: after a restart every input has an output, duplicates only after the last commit', async () => {
    const input = uniqueName('kill-in');
    const output = uniqueName('kill-out');
    const group = uniqueName('kill');
    const count = 150_000;
    await feedEvents(brokers, input, count);
    const args = ['run', 'passthrough', '--brokers', brokers, '--group', group, '--topic', `input=${input}`, '--topic', `output=${output}`, '--commit-interval', '200', '--quiet'];
    // A killed member holds its partitions until its session times out: keep that short here.
    const env = { SIGNALPATH_KAFKA_SESSION_TIMEOUT_MS: '6000' };
    const first = runCli(args, env);
    await waitForCommits(group, input, count / 4);
    first.child.kill('SIGKILL');
    const firstExit = await first.exited;
    expect(firstExit.signal).to.equal('SIGKILL');
    const committedAtKill = await committedOffsets(brokers, group, input, 4);

    const second = runCli([...args, '--until-idle', '2000'], env);
    const secondExit = await second.exited;
    expect(secondExit.code, secondExit.stderr).to.equal(0);

    const inputs = await readEvents(brokers, input);
    const where = new Map(inputs.map((i) => [i.event.event_id, i]));
    const seen = new Map<string, number>();
    for (const { event } of await readEvents(brokers, output)) seen.set(event.event_id, (seen.get(event.event_id) ?? 0) + 1);
    // At least once: every input has an output.
    for (const { event } of inputs) expect(seen.has(event.event_id), event.event_id).to.equal(true);
    // Duplicates only for records at or after the commit position at the time of the kill.
    let duplicates = 0;
    for (const [id, times] of seen) {
      if (times < 2) continue;
      duplicates++;
      const origin = where.get(id)!;
      expect(origin.offset).to.be.at.least(committedAtKill.find((c) => c.partition === origin.partition)!.offset);
    }
    const ends = await endOffsets(brokers, input);
    expect(await committedOffsets(brokers, group, input, 4)).to.deep.equal(ends);
    console.log(`      kill -9: committed at kill ${committedAtKill.map((c) => c.offset).join('/')} of ${ends.map((e) => e.offset).join('/')}; ${duplicates} duplicates after restart, 0 lost`);
  });

  describe('bad configuration fails at start, naming the setting', () => {
    const cases: [string, string[], RegExp][] = [
      ['an unknown topology', ['run', 'no-such-topology', '--brokers', '127.0.0.1:9'], /unknown topology "no-such-topology".*passthrough/],
      ['a malformed broker address', ['run', 'passthrough', '--brokers', 'not a broker'], /--brokers.*host:port/],
      ['an invalid number', ['run', 'passthrough', '--brokers', '127.0.0.1:9', '--max-unsettled', 'lots'], /--max-unsettled.*expected a number/],
      ['an unknown topic role', ['run', 'passthrough', '--brokers', '127.0.0.1:9', '--topic', 'nope=x'], /--topic nope=x.*roles are input, dlq, output/],
      ['an invalid environment value', ['run', 'passthrough', '--brokers', '127.0.0.1:9'], /SIGNALPATH_BATCH_SIZE.*at most 100000/],
    ];
    for (const [what, args, message] of cases) {
      it(`rejects ${what}`, async () => {
        const env: Record<string, string> = what.includes('environment') ? { SIGNALPATH_BATCH_SIZE: '99999999' } : {};
        const exit = await runCli(args, env).exited;
        expect(exit.code).to.equal(2);
        expect(exit.stderr).to.match(message);
      });
    }

    it('names the broker setting when no broker answers', async () => {
      const exit = await runCli(['run', 'passthrough', '--brokers', '127.0.0.1:9'], {}).exited;
      expect(exit.code).to.not.equal(0);
      expect(exit.stderr).to.match(/cannot reach Kafka at 127\.0\.0\.1:9 \(KAFKA_BROKERS \/ --brokers\)/);
    });
  });
});
