/**
 * The source's repeat-delivery guard, against the real broker and client: when the client hands out
 * records this assignment already took (here forced by seeking the partition back while those records
 * are still unsettled), the repeats are skipped and counted, each offset is emitted once, and the
 * offset tracker never sees an offset go backwards (without the guard: "offset N tracked after M",
 * fatal). Seen once in a 2M-record lab run, around pause/resume.
 */
import { expect } from 'chai';
import type { Envelope } from '../../core/envelope.js';
import type { InferenceEvent } from '../../schemas/index.js';
import { sharedBroker, uniqueName } from '../support/broker.js';
import { feedEvents } from '../support/kafka-fixtures.js';
import { waitUntil } from '../chaos/support/chaos.js';
import { inferenceSource } from '../support/inference-source.js';

describe('integration: the source skips records the client delivers again', function () {
  this.timeout(120_000);

  it('emits each offset once when the client rewinds under unsettled records, and counts the repeats', async () => {
    const { brokers } = await sharedBroker();
    const topic = uniqueName('redeliver-in');
    const events = await feedEvents(brokers, topic, 2_000);
    const logs: string[] = [];
    const maxUnsettled = 300;
    const source = inferenceSource({ brokers, group: uniqueName('redeliver'), topic, maxUnsettled, log: (message) => logs.push(message) });
    const held: Envelope<InferenceEvent>[] = [];
    const emitted = new Map<string, number>();
    let fatal: Error | null = null;
    await source.start(
      (envelope) => {
        const at = `${envelope.origin.partition}@${envelope.origin.offset}`;
        emitted.set(at, (emitted.get(at) ?? 0) + 1);
        held.push(envelope);
      },
      (error) => (fatal = error),
    );
    try {
      // Blocked at maxUnsettled with nothing settled: every partition holds unsettled records.
      await waitUntil(`${maxUnsettled} records are unsettled`, 60_000, () => source.stats.unsettled >= maxUnsettled);
      const rewound = [...new Set(held.map((e) => e.origin.partition))];
      for (const partition of rewound) {
        await new Promise<void>((resolve, reject) => source.transactionConsumer.seek({ topic, partition, offset: 0 }, 5_000, (err) => (err ? reject(err) : resolve())));
      }
      // Settling lets the loop consume again: first the repeats of what it already holds.
      const settleAll = (): void => {
        for (const envelope of held.splice(0)) envelope.settlement.settle('delivered');
      };
      settleAll();
      await waitUntil(`all ${events.length} records are emitted`, 60_000, () => {
        settleAll();
        return fatal !== null || emitted.size === events.length;
      });
      expect(fatal, String(fatal)).to.equal(null);
      expect([...emitted.values()].every((n) => n === 1), 'an offset emitted twice').to.equal(true);
      expect(source.stats.redelivered).to.be.at.least(maxUnsettled);
      expect(logs.some((line) => /delivered offset \d+ again/.test(line)), logs.join('\n')).to.equal(true);
      console.log(`      source: ${source.stats.redelivered} records delivered again after a seek back were skipped; ${emitted.size} offsets emitted once each`);
    } finally {
      await source.stopFetching();
      await source.close();
    }
  });
});
