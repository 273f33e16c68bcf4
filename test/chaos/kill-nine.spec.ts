/**
 * Chaos: kill -9 of a topology process at seeded random points while records flow, N times, then a
 * last instance runs until idle. Proves at-least-once across crashes: every input id reaches the
 * output (0 lost), offsets end committed at the end of the input, and duplicates — records after the
 * last commit, re-read by the next instance — are counted and printed. A second scenario kills
 * model-monitor the same way: each restarted instance resumes with the state of its stateful steps
 * (restored from the changelog, not re-warmed), and the last one commits every input.
 */
import { expect } from 'chai';
import { committedOffsets, endOffsets } from '../../runtime/kafka/admin.js';
import { SeededRandom } from '../../operators/random.js';
import { sharedBroker, uniqueName } from '../support/broker.js';
import { runCli, sleep } from '../support/kafka-fixtures.js';
import { startModelRegistry } from '../../lab/model-registry/index.js';
import { readMentions } from '../../runtime/cli/evaluate-command.js';
import { figures, pacedFeed, seconds, sized, tally, waitUntil } from './support/chaos.js';

describe('chaos: kill -9 mid-stream, again and again', function () {
  const kills = sized(3, 20);
  const records = sized(20_000, 200_000);
  // About one kill cycle (restart, rejoin after the dead member's session times out, run) per 10 s.
  const ratePerSecond = sized(600, 1_000);
  this.timeout(sized(240_000, 900_000));

  it(`loses nothing over ${kills} kills of ${records} records, and counts the duplicates`, async () => {
    const { brokers } = await sharedBroker();
    const input = uniqueName('chaos-kill-in');
    const output = uniqueName('chaos-kill-out');
    const group = uniqueName('chaos-kill');
    const random = SeededRandom.fromSeed(20_261_125);
    const feed = await pacedFeed(brokers, input, records, ratePerSecond, 8);
    const args = ['run', 'passthrough', '--brokers', brokers, '--group', group, '--topic', `input=${input}`, '--topic', `output=${output}`, '--commit-interval', '200', '--metrics-port', '0', '--quiet'];
    // A killed member holds its partitions until its session times out: keep that short (broker minimum 6 s).
    const env = { SIGNALPATH_KAFKA_SESSION_TIMEOUT_MS: '6000' };
    const committedTotal = async (): Promise<number> => (await committedOffsets(brokers, group, input, 4)).reduce((sum, c) => sum + Math.max(0, c.offset), 0);

    const recoveriesMs: number[] = [];
    const killedAt: number[] = [];
    for (let kill = 0; kill < kills; kill++) {
      const before = await committedTotal();
      const startedAt = Date.now();
      const run = runCli(args, env);
      // Resumed = it committed past where the previous instance died — or, once the feed has ended and
      // every record was committed before this instance started, there is nothing left to commit.
      const resumed = async (): Promise<boolean> => {
        const committed = await committedTotal();
        return committed > before || (feed.written() === records && committed >= records);
      };
      await waitUntil(`instance ${kill + 1} commits past ${before}`, 90_000, async () => run.child.exitCode === null && (await resumed()));
      recoveriesMs.push(Date.now() - startedAt);
      await sleep(Math.floor(random.nextFloat() * 2_000));
      run.child.kill('SIGKILL');
      const exit = await run.exited;
      expect(exit.signal, exit.stderr).to.equal('SIGKILL');
      killedAt.push(await committedTotal());
    }

    await feed.done;
    const last = runCli([...args, '--until-idle', '3000'], env);
    const lastExit = await last.exited;
    expect(lastExit.code, lastExit.stderr).to.equal(0);

    const result = await tally(brokers, feed.events.map((e) => e.event_id), output);
    expect(result.lost, `lost ids, e.g. ${result.lostSample.join(', ')}`).to.equal(0);
    const ends = await endOffsets(brokers, input);
    expect(await committedOffsets(brokers, group, input, 4)).to.deep.equal(ends);
    figures('kill -9', {
      kills,
      records,
      lost: result.lost,
      duplicated: result.duplicates,
      'committed at each kill': killedAt.join('/'),
      'restart → committing again (mean/max)': `${seconds(recoveriesMs.reduce((a, b) => a + b, 0) / recoveriesMs.length)}/${seconds(Math.max(...recoveriesMs))}`,
    });
  });

  it('model-monitor: every restart after a kill -9 restores its steps\' state, and the last commits every input', async () => {
    const modelMonitorKills = sized(2, 10);
    const modelMonitorRecords = sized(12_000, 100_000);
    const { brokers } = await sharedBroker();
    const registry = await startModelRegistry({ seed: 5 });
    try {
      const input = uniqueName('chaos-kill-mm-in');
      const mentions = uniqueName('chaos-kill-mm-mentions');
      const group = uniqueName('chaos-kill-mm');
      const random = SeededRandom.fromSeed(20_261_126);
      const feed = await pacedFeed(brokers, input, modelMonitorRecords, ratePerSecond, 9);
      const args = [
        'run', 'model-monitor', '--brokers', brokers, '--group', group, '--topic', `input=${input}`, '--topic', `mentions=${mentions}`,
        '--topic', `review=${mentions}.review`, '--topic', `dlq=${mentions}.dlq`, '--commit-interval', '200', '--state-snapshot-interval', '1000',
        '--metrics-port', '0', '--max-unsettled', '100000', '--partition-high-water', '50000',
      ];
      // Short epochs and windows so that held records settle (and commits move) between kills.
      const env = { SIGNALPATH_KAFKA_SESSION_TIMEOUT_MS: '6000', MODEL_REGISTRY_URL: registry.url, MODEL_MONITOR_EPOCH_MS: '2000', MODEL_MONITOR_DEDUP_WINDOW_MS: '5000' };
      const committedTotal = async (): Promise<number> => (await committedOffsets(brokers, group, input, 4)).reduce((sum, c) => sum + Math.max(0, c.offset), 0);
      /** "state restore … took N ms …: detect from …" lines of a run's log. */
      const restoresIn = (log: string): { ms: number; detectRestored: boolean; line: string }[] =>
        [...log.matchAll(/state restore for partitions .* took (\d+) ms.*$/gm)].map((m) => ({ ms: Number(m[1]), detectRestored: /[:;] detect from /.test(m[0]), line: m[0] }));

      const restoreMs: number[] = [];
      for (let kill = 0; kill < modelMonitorKills; kill++) {
        const before = await committedTotal();
        const run = runCli(args, env);
        await waitUntil(`model-monitor instance ${kill + 1} commits past ${before}`, 120_000, async () => run.child.exitCode === null && (await committedTotal()) > before);
        await sleep(Math.floor(random.nextFloat() * 2_000));
        run.child.kill('SIGKILL');
        const exit = await run.exited;
        expect(exit.signal, exit.stderr).to.equal('SIGKILL');
        const restores = restoresIn(exit.stderr);
        if (kill > 0) {
          // A restarted instance: the state its predecessor wrote at its commits comes back first.
          expect(restores.some((r) => r.detectRestored), `instance ${kill + 1} restored detect:\n${exit.stderr.slice(-3000)}`).to.equal(true);
          restoreMs.push(...restores.filter((r) => r.detectRestored).map((r) => r.ms));
        }
      }

      await feed.done;
      const last = runCli([...args, '--until-idle', '3000'], env);
      const lastExit = await last.exited;
      expect(lastExit.code, lastExit.stderr.slice(-3000)).to.equal(0);
      const lastRestores = restoresIn(lastExit.stderr);
      const lastRestore = lastRestores.find((r) => r.detectRestored);
      expect(lastRestore, 'the last instance restored detect').to.not.equal(undefined);
      for (const step of ['sample', 'enrich-model', 'partition-by-model', 'detect', 'dedup']) expect(lastRestore!.line).to.match(new RegExp(`[:;] ${step} from `));
      restoreMs.push(...lastRestores.filter((r) => r.detectRestored).map((r) => r.ms));
      const ends = await endOffsets(brokers, input);
      expect(await committedOffsets(brokers, group, input, 4)).to.deep.equal(ends);
      const produced = await readMentions(brokers, mentions);
      const ids = new Set(produced.map((m) => m.mention_id));
      figures('kill -9 model-monitor', {
        kills: modelMonitorKills,
        records: modelMonitorRecords,
        'committed to the end': 'yes',
        'restores of detect (ms)': restoreMs.join('/'),
        mentions: produced.length,
        'same mention produced twice (at-least-once)': produced.length - ids.size,
      });
    } finally {
      await registry.stop();
    }
  });
});
