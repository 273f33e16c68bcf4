/**
 * Operator state at scale and its limits, against the real broker: a snapshot of 100 000 keys written
 * as many chunks restores every key after a restart and across a 1 → 2 → 1 handover; two groups on one
 * broker keep separate state (the namespace is the group); the previous release's topology-named
 * changelog restores once; an output the client refuses (too large for `message.max.bytes`) is a dead
 * letter, not a crash; state that cannot fit stops the run with what to change.
 */
import { expect } from 'chai';
import path from 'node:path';
import { createStateful } from '../fixtures/topologies/stateful.js';
import { createOversize, enlarged } from '../fixtures/topologies/oversize.js';
import { runTopology, type RunningTopology } from '../../runtime/runner.js';
import { committedOffsets, endOffsets, ensureTopics } from '../../runtime/kafka/admin.js';
import { readAll } from '../../runtime/kafka/topic-reader.js';
import { writeTopic } from '../../runtime/kafka/topic-writer.js';
import { createTopicSerde } from '../../runtime/serde/index.js';
import { changelogTopic } from '../../runtime/state/changelog.js';
import type { RunConfig } from '../../runtime/config.js';
import { generateInferenceEvents } from '../../lab/generator/simple-stream.js';
import { DeadLetterContract, InferenceEventContract, type DeadLetter, type InferenceEvent } from '../../schemas/index.js';
import type { OperatorSnapshot } from '../../core/state.js';
import { sharedBroker, uniqueName } from '../support/broker.js';
import { feedEvents, headersOf, PROJECT_ROOT, readEvents, runCli, testRunConfig } from '../support/kafka-fixtures.js';

type DetectorEntries = [string, { entries: [string, { count: number }][] }][];

/** Keys the per-key detectors hold, and the points they have learnt. */
function detectorKeys(snapshot: OperatorSnapshot): { keys: number; points: number } {
  const detectors = snapshot['detectors'] as DetectorEntries;
  return {
    keys: detectors.reduce((sum, [, state]) => sum + state.entries.length, 0),
    points: detectors.reduce((sum, [, state]) => sum + state.entries.reduce((s, [, e]) => s + e.count, 0), 0),
  };
}

/** A snapshot's detector state as text, keys sorted (an LRU lists them by recency). */
function canonical(snapshot: OperatorSnapshot): string {
  const detectors = (snapshot['detectors'] as DetectorEntries).map(([name, state]) => [name, { ...state, entries: [...state.entries].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)) }]);
  return JSON.stringify({ ...snapshot, detectors });
}

/** The run config of a test, with the namespace left to its default (the group). */
function groupNamespaced(brokers: string, overrides: Partial<RunConfig>): RunConfig {
  const { stateNamespace: _ignored, ...config } = testRunConfig(brokers, overrides);
  return config;
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function committedToEnd(brokers: string, group: string, topic: string): Promise<boolean> {
  const ends = await endOffsets(brokers, topic);
  return JSON.stringify(await committedOffsets(brokers, group, topic, ends.length)) === JSON.stringify(ends);
}

describe('integration: operator state at scale', function () {
  this.timeout(300_000);
  let brokers: string;

  before(async () => {
    brokers = (await sharedBroker()).brokers;
  });

  it('two groups running one topology on one broker keep separate state: the changelog is named after the group', async () => {
    const input = uniqueName('groups-in');
    const topologyName = uniqueName('groups');
    const stateful = createStateful(topologyName);
    const [groupA, groupB] = [uniqueName('group-a'), uniqueName('group-b')];
    const first = await feedEvents(brokers, input, 3_000, 21);
    const logsA: string[] = [];
    const runA = await runTopology(stateful, groupNamespaced(brokers, { group: groupA, topics: { input, output: uniqueName('groups-out-a') }, log: (line) => logsA.push(line) }));
    expect((await runA.done).reason).to.equal('idle');
    expect(logsA.join('\n')).to.include(`kept in ${changelogTopic(groupA, 'detect')} (namespace ${groupA}, from the consumer group`);

    // Group B reads the same input from the start: it must not restore A's detectors.
    const runB = await runTopology(stateful, groupNamespaced(brokers, { group: groupB, topics: { input, output: uniqueName('groups-out-b') } }));
    expect((await runB.done).reason).to.equal('idle');
    expect(runB.state!.restored.map((r) => r.action)).to.deep.equal(['none']);
    expect(detectorKeys(runB.state!.handleFor('detect').snapshot()).points).to.equal(first.length);

    // A restarted restores its own state, written by its own group.
    const second = await feedEvents(brokers, input, 1_000, 22);
    const runA2 = await runTopology(stateful, groupNamespaced(brokers, { group: groupA, topics: { input, output: uniqueName('groups-out-a') } }));
    expect((await runA2.done).reason).to.equal('idle');
    const [restored] = runA2.state!.restored;
    expect(restored!.action).to.equal('restored');
    expect(restored!.from!.group).to.equal(groupA);
    expect(restored!.topic).to.equal(changelogTopic(groupA, 'detect'));
    expect(detectorKeys(runA2.state!.handleFor('detect').snapshot()).points).to.equal(first.length + second.length);
  });

  it("migration: a run whose group has no state yet restores the previous release's <topology>.<step>.changelog, and logs it", async () => {
    const input = uniqueName('migrate-in');
    const topologyName = uniqueName('migrate');
    const stateful = createStateful(topologyName);
    const group = uniqueName('migrate-group');
    const first = await feedEvents(brokers, input, 2_000, 23);
    // The previous release named the changelog after the topology: as --state-namespace <topology> does.
    const old = await runTopology(stateful, testRunConfig(brokers, { group, stateNamespace: topologyName, topics: { input, output: uniqueName('migrate-out') } }));
    expect((await old.done).reason).to.equal('idle');

    const second = await feedEvents(brokers, input, 1_000, 24);
    const logs: string[] = [];
    const run = await runTopology(stateful, groupNamespaced(brokers, { group, topics: { input, output: uniqueName('migrate-out') }, log: (line) => logs.push(line) }));
    expect((await run.done).reason).to.equal('idle');
    expect(run.state!.restored[0]!.action).to.equal('restored');
    expect(run.state!.restored[0]!.topic).to.equal(changelogTopic(topologyName, 'detect'));
    expect(logs.join('\n')).to.match(new RegExp(`migrating from the previous release's ${topologyName}\\.detect\\.changelog .*new snapshots go to ${group}\\.detect\\.changelog`));
    expect(detectorKeys(run.state!.handleFor('detect').snapshot()).points).to.equal(first.length + second.length);

    // The next run finds its state under the new name.
    const next = await runTopology(stateful, groupNamespaced(brokers, { group, topics: { input, output: uniqueName('migrate-out') } }));
    expect((await next.done).reason).to.equal('idle');
    expect(next.state!.restored[0]!.topic).to.equal(changelogTopic(group, 'detect'));
  });

  it('100 000 keys in many chunks: a 1 → 2 → 1 handover and a restart keep every key\'s state', async () => {
    const KEYS = 100_000;
    const input = uniqueName('scale-in');
    const topologyName = uniqueName('scale');
    const group = uniqueName('scale-group');
    const stateful = createStateful(topologyName);
    // Two input partitions: each instance holds one in the middle of the handover.
    await ensureTopics(brokers, [{ topic: input, partitions: 2 }]);
    // One event per key: model × segment is the detectors' key.
    const events = [...generateInferenceEvents({ count: KEYS, seed: 25 }).events].map((event, i): InferenceEvent => ({ ...event, model_id: `key-${i}` }));
    await writeTopic(events, { brokers, topic: input, contract: InferenceEventContract });
    // Chunks of ≈ 99 KB (a quarter of 400 kB, less the header room): a snapshot takes dozens.
    const config = groupNamespaced(brokers, { group, topics: { input, output: uniqueName('scale-out') }, untilIdleMs: undefined, stateSnapshotIntervalMs: 1_000, clientConfig: { 'message.max.bytes': '400000' } });
    let a: RunningTopology | null = null;
    let b: RunningTopology | null = null;
    try {
      a = await runTopology(stateful, { ...config, instanceId: 'a' });
      await until(async () => a!.stats().consumed === KEYS && (await committedToEnd(brokers, group, input)), 'A to consume and commit every key');
      const ends = await endOffsets(brokers, input);
      await until(() => ends.every(({ partition, offset }) => a!.state!.writtenOffset('detect', partition) === offset), 'a snapshot at the last commit');
      const held = a.state!.handleFor('detect').snapshot();
      expect(detectorKeys(held)).to.deep.equal({ keys: KEYS, points: KEYS });

      b = await runTopology(stateful, { ...config, instanceId: 'b' });
      await until(() => b!.state!.restored.length > 0, 'B to restore');
      const handed = b.state!.restored[0]!;
      expect(handed.action).to.equal('restored');
      expect(handed.from!.manifest!.chunks, 'chunks in the restored snapshot').to.be.greaterThan(10);
      // Every key's state, exactly: nothing new came in since A's snapshot.
      expect(canonical(b.state!.handleFor('detect').snapshot())).to.equal(canonical(held));
      const bSummary = await b.stop();
      b = null;
      expect(bSummary.reason, bSummary.error).to.equal('stopped');
      await until(() => a!.state!.restored.length > 1, 'A to take the partitions back');
      expect(a.state!.restored.at(-1)!.action).to.equal('kept');
      const aSummary = await a.stop();
      a = null;
      expect(aSummary.reason, aSummary.error).to.equal('stopped');

      const restart = await runTopology(stateful, { ...config, instanceId: 'c', untilIdleMs: 2_000 });
      expect((await restart.done).reason).to.equal('idle');
      const [restored] = restart.state!.restored;
      expect(restored!.action).to.equal('restored');
      expect(canonical(restart.state!.handleFor('detect').snapshot())).to.equal(canonical(held));
      console.log(
        `      ${KEYS} keys: a snapshot of ${restored!.from!.manifest!.bytes} bytes in ${restored!.from!.manifest!.chunks} chunks per partition; ` +
          `restored in ${restart.state!.stats.lastRestoreMs.toFixed(0)} ms on restart`,
      );
    } finally {
      await b?.stop();
      await a?.stop();
    }
  });

  it('an output the client refuses (larger than message.max.bytes) is a dead letter with the reason, the step and the origin; the rest flows on', async () => {
    const input = uniqueName('oversize-in');
    const output = uniqueName('oversize-out');
    const dlq = uniqueName('oversize-dlq');
    const group = uniqueName('oversize');
    const events = await feedEvents(brokers, input, 2_000, 26);
    const run = await runTopology(createOversize(uniqueName('oversize')), testRunConfig(brokers, { group, topics: { input, output, dlq }, clientConfig: { 'message.max.bytes': '4000' } }));
    const summary = await run.done;
    expect(summary.reason, summary.error).to.equal('idle');
    const refused = events.filter(enlarged);
    expect(refused.length).to.be.greaterThan(50);
    expect(summary.deadLettered).to.equal(refused.length);

    const serde = createTopicSerde({ contract: DeadLetterContract, topic: dlq });
    const letters = (await readAll(brokers, dlq)).map((m) => serde.decode(m.value!, headersOf(m)) as DeadLetter);
    expect(letters.length).to.equal(refused.length);
    const inputs = new Map((await readEvents(brokers, input)).map(({ event, partition, offset }) => [`${partition}@${offset}`, event]));
    for (const letter of letters) {
      expect(letter.step).to.equal('produce-output');
      expect(letter.error).to.match(/RecordRefusedError: Kafka refused the record for .*: .*too large.*message\.max\.bytes is 4000/i);
      expect(letter.origin_topic).to.equal(input);
      expect(enlarged(inputs.get(`${letter.origin_partition}@${letter.origin_offset}`)!)).to.equal(true);
    }
    const delivered = await readEvents(brokers, output);
    expect(delivered.length).to.equal(events.length - refused.length);
    expect(await committedToEnd(brokers, group, input), 'offsets moved past the refused records').to.equal(true);
  });

  it('an output the broker refuses in its delivery report (the topic\'s max.message.bytes is smaller) is a dead letter too', async () => {
    const input = uniqueName('refused-in');
    const output = uniqueName('refused-out');
    const dlq = uniqueName('refused-dlq');
    const group = uniqueName('refused');
    const events = await feedEvents(brokers, input, 1_000, 28);
    // The producer would send 6 kB; the topic takes at most 5 kB. Small batches, so that a batch of
    // ordinary records never passes the topic's limit on its own.
    await ensureTopics(brokers, [{ topic: output, partitions: 4, config: { 'max.message.bytes': '5000' } }]);
    const run = await runTopology(createOversize(uniqueName('refused')), testRunConfig(brokers, { group, topics: { input, output, dlq }, clientConfig: { 'batch.size': '2000', 'linger.ms': '0' } }));
    const summary = await run.done;
    expect(summary.reason, summary.error).to.equal('idle');
    const refused = events.filter(enlarged);
    const serde = createTopicSerde({ contract: DeadLetterContract, topic: dlq });
    const letters = (await readAll(brokers, dlq)).map((m) => serde.decode(m.value!, headersOf(m)) as DeadLetter);
    expect(letters.map((l) => l.origin_offset).length).to.equal(refused.length);
    for (const letter of letters) expect(letter.error).to.match(/RecordRefusedError: .*too large/i);
    expect((await readEvents(brokers, output)).length).to.equal(events.length - refused.length);
    expect(await committedToEnd(brokers, group, input)).to.equal(true);
  });

  it('state that cannot fit stops the run: exit code 1 and an error naming the step, the size and the setting, never an uncaught exception', async () => {
    const input = uniqueName('nofit-in');
    const group = uniqueName('nofit');
    await feedEvents(brokers, input, 500, 27);
    const exit = await runCli(
      ['run', path.join(PROJECT_ROOT, 'test/fixtures/topologies/stateful.ts'), '--brokers', brokers, '--group', group, '--topic', `input=${input}`, '--topic', `output=${uniqueName('nofit-out')}`, '--until-idle', '2000', '--metrics-port', '0', '--quiet'],
      { SIGNALPATH_KAFKA_MESSAGE_MAX_BYTES: '2000' },
    ).exited;
    expect(exit.code, exit.stderr).to.equal(1);
    expect(exit.stderr).to.match(/fatal: state of step detect \(a snapshot of \d+ bytes\) cannot be written to its changelog: the producer's message\.max\.bytes \(SIGNALPATH_KAFKA_MESSAGE_MAX_BYTES, now 2000\).*raise it to at least \d+/);
    expect(exit.stderr).to.not.match(/Uncaught|triggerUncaughtException|^\s+at /m);
  });
});
