/**
 * Chaos: kill -9 of a topology process at seeded random points while records flow, N times, then a
 * last instance runs until idle.
 *
 * At-least-once: every input id reaches the output (0 lost), offsets end committed at the end of the
 * input, and duplicates — records after the last commit, re-read by the next instance — are counted
 * and printed. Exactly-once (`--exactly-once`, a stateful topology whose changelog writes join the
 * transactions): the `read_committed` output holds every input exactly once, while the
 * `read_uncommitted` log shows the copies the kills left in aborted transactions. model-monitor
 * killed the same way: each restarted instance resumes with the state of its stateful steps (restored
 * from the changelog, not re-warmed), and the last one commits every input.
 *
 * Every process a scenario starts is SIGKILLed when it ends, passed or failed.
 */
import { expect } from 'chai';
import path from 'node:path';
import { committedOffsets, endOffsets } from '../../runtime/kafka/admin.js';
import { SeededRandom } from '../../core/random.js';
import { sharedBroker, uniqueName } from '../support/broker.js';
import { startModelRegistry } from '../../lab/model-registry/index.js';
import { readMentions } from '../../lab/evaluate/index.js';
import { exactlyOnceTally } from '../support/exactly-once.js';
import { CliProcesses, PROJECT_ROOT, sleep } from '../support/kafka-fixtures.js';
import { figures, pacedFeed, seconds, sized, tally, waitUntil, type Feed } from './support/chaos.js';

const PARTITIONS = 4;

interface KillCycles {
  /** Per restart: ms from starting the process until it committed past where the last one died. */
  readonly recoveriesMs: readonly number[];
  /** Offsets committed (summed over partitions) right after each kill. */
  readonly committedAtKills: readonly number[];
}

/**
 * Starts `args`, waits until it commits past where the previous instance died, lets it run a seeded
 * random 0–2 s and kills it with SIGKILL — `kills` times; then runs a last instance until idle and
 * checks that it exits cleanly with the group's offsets at the end of the input.
 */
async function killRepeatedly(options: {
  readonly brokers: string;
  readonly group: string;
  readonly input: string;
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  readonly kills: number;
  readonly feed: Feed;
  readonly random: SeededRandom;
  readonly processes: CliProcesses;
}): Promise<KillCycles> {
  const { brokers, group, input, args, env, feed, processes } = options;
  const records = feed.events.length;
  // Offsets as last committed, without waiting for a killed instance's open transaction (a
  // read_committed client asks for stable offsets and times out until that transaction is aborted).
  const latestCommitted = { 'isolation.level': 'read_uncommitted' };
  const committedTotal = async (): Promise<number> =>
    (await committedOffsets(brokers, group, input, PARTITIONS, undefined, latestCommitted)).reduce((sum, c) => sum + Math.max(0, c.offset), 0);
  const recoveriesMs: number[] = [];
  const committedAtKills: number[] = [];
  for (let kill = 0; kill < options.kills; kill++) {
    const before = await committedTotal();
    const startedAt = Date.now();
    const run = processes.start(args, env);
    // Resumed = it committed past where the previous instance died — or, once the feed has ended and
    // every record was committed before this instance started, there is nothing left to commit.
    const resumed = async (): Promise<boolean> => {
      // A query that times out on the loaded machine ("Local: Timed out") is asked again, not fatal.
      const committed = await committedTotal().catch(() => before);
      return committed > before || (feed.written() === records && committed >= records);
    };
    await waitUntil(`instance ${kill + 1} commits past ${before}`, 90_000, async () => run.child.exitCode === null && (await resumed()));
    recoveriesMs.push(Date.now() - startedAt);
    await sleep(Math.floor(options.random.nextFloat() * 2_000));
    run.child.kill('SIGKILL');
    const exit = await run.exited;
    expect(exit.signal, exit.stderr).to.equal('SIGKILL');
    committedAtKills.push(await committedTotal());
  }

  await feed.done;
  const lastExit = await processes.start([...args, '--until-idle', '3000'], env).exited;
  expect(lastExit.code, lastExit.stderr).to.equal(0);
  const ends = await endOffsets(brokers, input);
  expect(await committedOffsets(brokers, group, input, PARTITIONS), `the last instance's log ended:\n${lastExit.stderr.split('\n').slice(-30).join('\n')}`).to.deep.equal(ends);
  return { recoveriesMs, committedAtKills };
}

function recoveryFigure(recoveriesMs: readonly number[]): string {
  return `${seconds(recoveriesMs.reduce((a, b) => a + b, 0) / recoveriesMs.length)}/${seconds(Math.max(...recoveriesMs))}`;
}

describe('chaos: kill -9 mid-stream, again and again', function () {
  // A killed member holds its partitions until its session times out: keep that short (broker minimum 6 s).
  const env = { SIGNALPATH_KAFKA_SESSION_TIMEOUT_MS: '6000' };
  let processes: CliProcesses;

  beforeEach(() => {
    processes = new CliProcesses();
  });

  afterEach(() => {
    // A failed assertion or timeout must not leave the current instance running.
    processes.killAll();
  });

  describe('at-least-once', function () {
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
      const feed = await pacedFeed(brokers, input, records, ratePerSecond, 8);
      const args = ['run', 'passthrough', '--brokers', brokers, '--group', group, '--topic', `input=${input}`, '--topic', `output=${output}`, '--commit-interval', '200', '--metrics-port', '0', '--quiet'];
      const cycles = await killRepeatedly({ brokers, group, input, args, env, kills, feed, random: SeededRandom.fromSeed(20_261_125), processes });

      const result = await tally(brokers, feed.events.map((e) => e.event_id), output);
      expect(result.lost, `lost ids, e.g. ${result.lostSample.join(', ')}`).to.equal(0);
      figures('kill -9', {
        kills,
        records,
        lost: result.lost,
        duplicated: result.duplicates,
        'committed at each kill': cycles.committedAtKills.join('/'),
        'restart → committing again (mean/max)': recoveryFigure(cycles.recoveriesMs),
      });
    });
  });

  describe('exactly-once', function () {
    const kills = sized(3, 20);
    const records = sized(12_000, 200_000);
    // Slower than the at-least-once feed at CI size, so the kills land while records still flow.
    const ratePerSecond = sized(400, 1_000);
    this.timeout(sized(240_000, 1_200_000));

    it(`in read_committed output, has every input once over ${kills} kills of ${records} records`, async () => {
      const { brokers } = await sharedBroker();
      const input = uniqueName('chaos-eos-in');
      const output = uniqueName('chaos-eos-out');
      const group = uniqueName('chaos-eos');
      const feed = await pacedFeed(brokers, input, records, ratePerSecond, 9);
      const args = [
        'run', path.join(PROJECT_ROOT, 'test/chaos/support/stateful-topology.ts'),
        '--brokers', brokers, '--group', group, '--topic', `input=${input}`, '--topic', `output=${output}`,
        '--exactly-once', '--commit-interval', '300', '--state-snapshot-interval', '1000', '--metrics-port', '0', '--quiet',
        // A partition read to its end before a kill yields no record after the restart, so watermark
        // alignment holds the other partitions until it counts as idle (default 30 s): keep that short.
        '--partition-idle-timeout', '2000',
      ];
      // A stable instance id: the restarted instance's transactional.id fences the killed one's.
      const eosEnv = { ...env, SIGNALPATH_INSTANCE_ID: 'chaos-eos' };
      const cycles = await killRepeatedly({ brokers, group, input, args, env: eosEnv, kills, feed, random: SeededRandom.fromSeed(20_261_126), processes });

      const result = await exactlyOnceTally(brokers, feed.events.map((e) => e.event_id), output);
      figures('kill -9 --exactly-once', {
        kills,
        records,
        lost: result.lost,
        'duplicated in read_committed': result.duplicated,
        'aborted copies in read_uncommitted': result.abortedCopies,
        'committed at each kill': cycles.committedAtKills.join('/'),
        'restart → committing again (mean/max)': recoveryFigure(cycles.recoveriesMs),
      });
      expect(result.lost, `lost ids, e.g. ${result.lostSample.join(', ')}`).to.equal(0);
      expect(result.duplicated).to.equal(0);
    });
  });

  describe('model-monitor', function () {
    const modelMonitorKills = sized(2, 10);
    const modelMonitorRecords = sized(12_000, 100_000);
    const ratePerSecond = sized(600, 1_000);
    this.timeout(sized(240_000, 900_000));

    it('every restart after a kill -9 restores its steps\' state, and the last commits every input', async () => {
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
          const run = processes.start(args, env);
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
        const last = processes.start([...args, '--until-idle', '3000'], env);
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
});
