/**
 * Operator state in changelog topics, against the real broker: a restart resumes with the state that
 * matches the committed offsets (the detectors do not re-warm), and state follows partitions when
 * instances join and leave one consumer group (1 → 2 → 1, cooperative-sticky) while records flow.
 */
import { expect } from 'chai';
import { createStateful } from '../fixtures/topologies/stateful.js';
import { runTopology, type RunningTopology } from '../../runtime/runner.js';
import { committedOffsets, endOffsets } from '../../runtime/kafka/admin.js';
import { readTopic } from '../../runtime/kafka/topic-reader.js';
import type { Message } from '../../runtime/kafka/client.js';
import { createTopicSerde } from '../../runtime/serde/index.js';
import { changelogTopic, decodeEntry, type ChangelogEntry } from '../../runtime/state/changelog.js';
import { writeTopic } from '../../runtime/kafka/topic-writer.js';
import { ensureTopics } from '../../runtime/kafka/admin.js';
import { generateInferenceEvents } from '../../lab/generator/simple-stream.js';
import { InferenceEventContract, type InferenceEvent } from '../../schemas/index.js';
import type { OperatorSnapshot } from '../../core/state.js';
import { sharedBroker, uniqueName } from '../support/broker.js';
import { feedEvents, headersOf, readEvents, testRunConfig } from '../support/kafka-fixtures.js';

/** Points the per-key detectors have learnt, summed over keys (parallelDetect → ewma-zscore entries). */
function pointsLearnt(snapshot: OperatorSnapshot): number {
  const detectors = snapshot['detectors'] as [string, { entries: [string, { count: number }][] }][];
  return detectors.reduce((sum, [, state]) => sum + state.entries.reduce((s, [, e]) => s + e.count, 0), 0);
}

/** The topic as a read_committed consumer sees it, until quiet (transaction markers take offsets, so "to the end offset" may never come). */
async function readCommitted(brokers: string, topic: string): Promise<Message[]> {
  const all: Message[] = [];
  for await (const batch of readTopic({ brokers, topic, isolation: 'read_committed', toEnd: false, idleMs: 3_000 })) all.push(...batch);
  return all;
}

async function changelogEntries(brokers: string, topic: string): Promise<ChangelogEntry[]> {
  return (await readCommitted(brokers, topic)).map((message) => decodeEntry(message.value!) as ChangelogEntry);
}

/** The output's events as a read_committed consumer sees them. */
async function readCommittedEvents(brokers: string, topic: string): Promise<InferenceEvent[]> {
  const serde = createTopicSerde({ contract: InferenceEventContract, topic });
  return (await readCommitted(brokers, topic)).map((message) => serde.decode(message.value!, headersOf(message)));
}

/** Keeps an instance's log line; STATE_DEBUG=1 prints it as it happens. */
function debugLog(logs: string[], line: string): void {
  logs.push(line);
  if (process.env['STATE_DEBUG'] === '1') console.log(`        ${new Date().toISOString()} ${line}`);
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('integration: operator state in changelog topics', function () {
  this.timeout(240_000);
  let brokers: string;

  before(async () => {
    brokers = (await sharedBroker()).brokers;
  });

  it('a restart resumes from the committed offsets with the matching state: the detectors do not re-warm', async () => {
    const input = uniqueName('state-in');
    const output = uniqueName('state-out');
    const group = uniqueName('state');
    const stateful = createStateful(group);
    const config = testRunConfig(brokers, { group, topics: { input, output } });
    const first = await feedEvents(brokers, input, 3_000, 5);

    const run1 = await runTopology(stateful, config);
    const summary1 = await run1.done;
    expect(summary1.reason, summary1.error).to.equal('idle');
    const learnt1 = pointsLearnt(run1.state!.handleFor('detect').snapshot());
    expect(learnt1).to.equal(first.length);

    // The changelog holds, per input partition, the snapshot taken at the last commit and that commit.
    const ends1 = await endOffsets(brokers, input);
    const topic = changelogTopic(stateful.name, 'detect');
    const latest = new Map<number, ChangelogEntry>();
    for (const entry of await changelogEntries(brokers, topic)) latest.set(entry.partition, entry);
    expect([...latest.keys()].sort()).to.deep.equal(ends1.map((e) => e.partition));
    for (const { partition, offset } of ends1) {
      expect(latest.get(partition)!.committedOffset, `partition ${partition}`).to.equal(offset);
      expect(pointsLearnt(latest.get(partition)!.snapshot)).to.equal(learnt1);
    }

    const second = await feedEvents(brokers, input, 2_000, 6);
    const run2 = await runTopology(stateful, config);
    const summary2 = await run2.done;
    expect(summary2.reason, summary2.error).to.equal('idle');
    expect(summary2.consumed, 'resumed from the committed offsets').to.equal(second.length);
    const [restored] = run2.state!.restored;
    expect(restored!.action).to.equal('restored');
    // Without the restore the detectors would hold only the second batch (a cold start, warm-up again).
    expect(pointsLearnt(run2.state!.handleFor('detect').snapshot())).to.equal(first.length + second.length);
    console.log(`      restart: restored ${learnt1} learnt points in ${run2.state!.stats.lastRestoreMs.toFixed(0)} ms; run 2 consumed ${summary2.consumed} (0 re-read)`);
  });

  // With jitter, records settle out of order within a partition: outputs of records ahead of the
  // commit position are already committed when a partition moves, and only the completed-ahead
  // metadata keeps the next owner from producing them again.
  for (const { exactlyOnce, jitterMs } of [{ exactlyOnce: false, jitterMs: 0 }, { exactlyOnce: true, jitterMs: 0 }, { exactlyOnce: true, jitterMs: 40 }]) {
    const variant = `${exactlyOnce ? ', --exactly-once' : ''}${jitterMs > 0 ? ', records settling out of order' : ''}`;
    it(`1 → 2 → 1 instances in one group while records flow${variant}: state handed over, 0 lost${exactlyOnce ? ', 0 duplicated' : ''}, committed to the end`, async () => {
      const input = uniqueName('handover-in');
      const output = uniqueName('handover-out');
      const group = uniqueName('handover');
      const stateful = createStateful(group, { jitterMs });
      const config = testRunConfig(brokers, { group, topics: { input, output }, untilIdleMs: undefined, stateSnapshotIntervalMs: 500, exactlyOnce });
      await ensureTopics(brokers, [{ topic: input, partitions: 4 }]);
      const events = [...generateInferenceEvents({ count: 60_000, seed: 8 }).events];
      // Records keep arriving in chunks while instances join and leave.
      let written = 0;
      const writing = (async () => {
        for (let i = 0; i < events.length; i += 2_000) {
          await writeTopic(events.slice(i, i + 2_000), { brokers, topic: input, contract: InferenceEventContract });
          written = i + 2_000;
          await new Promise((resolve) => setTimeout(resolve, 150));
        }
      })();

      const logs: string[] = [];
      try {
        await handOver();
      } catch (error) {
        // The instances' own account of the rebalances is what explains a failure here.
        for (const line of logs.filter((l) => !l.includes('dead letter'))) console.log(`        ${line}`);
        throw error;
      }
      async function handOver(): Promise<void> {
      const a = await runTopology(stateful, { ...config, instanceId: 'a', log: (m) => debugLog(logs, `A ${m}`) });
      await until(() => a.stats().consumed > 5_000, 'instance A to consume');
      let b: RunningTopology | null = await runTopology(stateful, { ...config, instanceId: 'b', log: (m) => debugLog(logs, `B ${m}`) });
      const bState = b.state!;
      await until(() => bState.restored.length > 0 && b!.stats().consumed > 2_000, 'instance B to restore and consume');
      const handedToB = bState.restored[0]!;
      const bSummary = await b.stop();
      b = null;
      expect(bSummary.reason, bSummary.error).to.equal('stopped');
      await writing;
      await until(async () => {
        const ends = await endOffsets(brokers, input);
        const committed = await committedOffsets(brokers, group, input, ends.length);
        return JSON.stringify(committed) === JSON.stringify(ends);
      }, 'the group to commit to the end', 120_000);
      const aSummary = await a.stop();
      expect(aSummary.reason, aSummary.error).to.equal('stopped');
      expect(written).to.equal(events.length);

      // B started without state and restored A's: the detectors of the partitions it took were warm.
      expect(handedToB.action).to.equal('restored');
      expect(pointsLearnt(handedToB.from!.snapshot)).to.be.greaterThan(5_000);
      // A kept its own state when the partitions came back (it holds state; no merge).
      expect(a.state!.restored.map((r) => r.action)).to.include('kept');
      // What B learnt was written for its partitions when it stopped, continuing from A's.
      const entries = await changelogEntries(brokers, changelogTopic(stateful.name, 'detect'));
      const bWrites = entries.filter((e) => e.writer !== handedToB.from!.writer);
      expect(bWrites.length).to.be.greaterThan(0);
      expect(Math.max(...bWrites.map((e) => pointsLearnt(e.snapshot)))).to.be.greaterThan(pointsLearnt(handedToB.from!.snapshot));

      // 0 lost: every input event is in the output (at-least-once: some may be there twice).
      const outputs = exactlyOnce ? await readCommittedEvents(brokers, output) : (await readEvents(brokers, output)).map(({ event }) => event);
      const seen = new Set(outputs.map((event) => event.event_id));
      const lost = events.filter((event) => !seen.has(event.event_id)).length;
      expect(lost).to.equal(0);
      if (exactlyOnce) expect(outputs.length - seen.size, 'duplicates in read_committed output').to.equal(0);
      const restoreLines = logs.filter((line) => line.includes('state restore'));
      const skipped = aSummary.skippedCompleted + bSummary.skippedCompleted;
      console.log(`      1→2→1${variant}: ${events.length} records, ${lost} lost, ${outputs.length - seen.size} duplicates${exactlyOnce ? ' (read_committed)' : ' (at-least-once)'}, B restored ${pointsLearnt(handedToB.from!.snapshot)} learnt points in ${bState.stats.lastRestoreMs.toFixed(0)} ms; ${skipped} records completed ahead of a commit skipped by their next reader`);
      for (const line of restoreLines) console.log(`        ${line}`);
      }
    });
  }
});
