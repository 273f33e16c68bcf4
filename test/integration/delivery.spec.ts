/**
 * Delivery semantics against the real broker: a topology that drops, fans out, merges and reorders
 * still settles every input exactly once, commits to the end offsets, and produces what it should.
 */
import { expect } from 'chai';
import shuffle, { indexOf } from '../fixtures/topologies/shuffle.js';
import { runTopology } from '../../runtime/runner.js';
import { committedOffsets, endOffsets } from '../../runtime/kafka/admin.js';
import { sharedBroker, uniqueName } from '../support/broker.js';
import { feedEvents, readEvents, testRunConfig } from '../support/kafka-fixtures.js';

describe('integration: settled-offset delivery', function () {
  this.timeout(240_000);
  let brokers: string;

  before(async () => {
    brokers = (await sharedBroker()).brokers;
  });

  it('drops, fans out, merges and reorders 100k records: every input settled once, committed to the end', async () => {
    const input = uniqueName('shuffle-in');
    const output = uniqueName('shuffle-out');
    const group = uniqueName('shuffle');
    const count = 100_000;
    const events = await feedEvents(brokers, input, count);

    const running = await runTopology(shuffle, testRunConfig(brokers, { group, topics: { input, output }, maxUnsettled: 5_000 }));
    const summary = await running.done;
    expect(summary.reason, summary.error).to.equal('idle');
    expect(summary.consumed).to.equal(count);
    expect(summary.drained).to.equal(true);

    // Committed offsets equal end offsets: every record settled, none twice (a double settle throws
    // and would have stopped the run as fatal).
    const ends = await endOffsets(brokers, input);
    const committed = await committedOffsets(brokers, group, input, ends.length);
    expect(committed).to.deep.equal(ends);

    // Outputs as expected, as a multiset of ids.
    const expected: string[] = [];
    const pairsByKey = new Map<string, number>();
    for (const event of events) {
      const i = indexOf(event);
      if (i % 2 === 1) continue;
      if (i % 10 === 0) expected.push(`${event.event_id}#a`, `${event.event_id}#b`);
      else if (i % 10 === 2) pairsByKey.set(event.model_id, (pairsByKey.get(event.model_id) ?? 0) + 1);
      else expected.push(event.event_id);
    }
    const outputs = await readEvents(brokers, output);
    const ids = outputs.flatMap(({ event }) => event.event_id.split('+'));
    const expectedMerged = events.filter((e) => indexOf(e) % 10 === 2).map((e) => e.event_id);
    expect(ids.length).to.equal(expected.length + expectedMerged.length);
    expect(new Set(ids)).to.deep.equal(new Set([...expected, ...expectedMerged]));
    // Merges pair records of one key: a merged output never mixes models.
    const eventById = new Map(events.map((e) => [e.event_id, e]));
    for (const { event } of outputs.filter(({ event }) => event.event_id.includes('+'))) {
      const [a, b] = event.event_id.split('+');
      expect(eventById.get(a!)!.model_id).to.equal(eventById.get(b!)!.model_id);
    }
    // Reordering happened (otherwise this test would not test settling out of order).
    const positions = outputs.filter(({ partition }) => partition === 0).map(({ event }) => indexOf(eventById.get(event.event_id.split('+')[0]!.replace(/#.$/, ''))!));
    expect(positions.some((p, k) => k > 0 && p < positions[k - 1]!)).to.equal(true);
  });
});
