/**
 * StepStates without a broker: the changelog records it writes (one per stateful step and input
 * partition, keyed `<step>:<partition>`) decode back to the snapshot, whatever JSON the operator holds.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { StepStates } from '../../runtime/state/step-states.js';
import { changelogKey, changelogTopic, changelogTopicSpec, decodeEntry } from '../../runtime/state/changelog.js';

function statesWith(snapshot: () => Record<string, unknown>): { states: StepStates; written: { topic: string; key: string; value: Buffer }[] } {
  const written: { topic: string; key: string; value: Buffer }[] = [];
  const states = new StepStates({ topology: 'shop', brokers: '127.0.0.1:9', log: () => {}, write: (topic, key, value) => written.push({ topic, key, value }) });
  states.handleFor('dedup').attach('windowedDedup', () => ({ operator: 'windowedDedup', version: 1, ...snapshot() }), () => {});
  states.handleFor('stateless'); // never attached: not stateful, nothing written
  return { states, written };
}

describe('StepStates: changelog records', () => {
  it('names the topic <topology>.<step>.changelog and creates it compacted', () => {
    const { states } = statesWith(() => ({}));
    expect(states.statefulSteps()).to.deep.equal(['dedup']);
    expect(states.topicSpecs()).to.deep.equal([changelogTopicSpec('shop.dedup.changelog')]);
    expect(changelogTopicSpec('x').config!['cleanup.policy']).to.equal('compact');
    expect(changelogTopic('shop', 'dedup')).to.equal('shop.dedup.changelog');
  });

  it('writes one record per partition, keyed <step>:<partition>, with the committed offset it matches', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.uniqueArray(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: -1, max: 1e12 }),
        (held, partitions, offset) => {
          const { states, written } = statesWith(() => ({ held }));
          states.snapshot(new Map(partitions.map((p) => [p, offset + p])));
          expect(written.map((w) => w.key)).to.deep.equal(partitions.map((p) => changelogKey('dedup', p)));
          for (const [i, w] of written.entries()) {
            expect(w.topic).to.equal('shop.dedup.changelog');
            const entry = decodeEntry(w.value);
            if (typeof entry === 'string') throw new Error(entry);
            expect(entry.partition).to.equal(partitions[i]);
            expect(entry.committedOffset).to.equal(offset + partitions[i]!);
            // JSON round trip of what the operator gave (-0 becomes 0 in JSON, as anywhere).
            expect(entry.snapshot).to.deep.equal(JSON.parse(JSON.stringify({ operator: 'windowedDedup', version: 1, held })));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('writes nothing when no partition is held', () => {
    const { states, written } = statesWith(() => ({ n: 1 }));
    states.snapshot(new Map());
    expect(written).to.deep.equal([]);
  });

  it('rejects a record that is not a changelog entry, with the reason', () => {
    expect(decodeEntry(Buffer.from('{"format":2}'))).to.match(/not a changelog entry/);
    expect(decodeEntry(Buffer.from('nope'))).to.match(/not JSON/);
  });
});
