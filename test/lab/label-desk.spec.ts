import { expect } from 'chai';
import fc from 'fast-check';
import { LabelDesk, type LabelDeskOptions } from '../../lab/labeler/label-desk.js';
import type { IncidentWindow } from '../../lab/evaluate/incident-match.js';
import type { Mention } from '../../schemas/index.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const incidents: IncidentWindow[] = [{ model_id: 'm1', segment: 'rare', field: 'latency_ms', start: 10 * MIN, end: 20 * MIN }];

let counter = 0;
function mention(overrides: Partial<Mention> = {}): Mention {
  return {
    mention_id: `m-${counter++}`, emitted_at: 1_000, window_start: 11 * MIN, window_end: 12 * MIN, model_id: 'm1', model_version: 'v1', tenant: 't', segment: 'rare',
    field: 'latency_ms', direction: 'HIGH', detector: 'sketch-cusum', score: 1, cluster_id: 'c', event_count: 2, evidence_event_ids: [], shadow: false, attributes: {},
    ...overrides,
  };
}

/** A desk that never errs, never hesitates and has no capacity limit, unless told otherwise. */
function desk(options: Partial<LabelDeskOptions> = {}): LabelDesk {
  return new LabelDesk({ incidents, unsureShare: 0, wrongShare: 0, capacityPerHour: Infinity, fastDelayMs: [2 * MIN, 2 * MIN], slowBatchEveryMs: [24 * HOUR, 24 * HOUR], ...options });
}

describe('lab: LabelDesk (the labelers of the feedback lanes)', () => {
  it('labels a fast-lane mention once its delay of event time has passed, with the ground truth as verdict', () => {
    const d = desk();
    const hit = mention();
    const miss = mention({ segment: 'common' });
    d.offer(hit, 'fast');
    d.offer(miss, 'fast');
    expect(d.advanceTo(12 * MIN + 2 * MIN - 1)).to.deep.equal([]);
    const labels = d.advanceTo(14 * MIN);
    expect(labels.map((l) => [l.mention_id, l.verdict, l.labeled_at])).to.deep.equal([
      [hit.mention_id, 'TRUE_POSITIVE', 14 * MIN],
      [miss.mention_id, 'FALSE_POSITIVE', 14 * MIN],
    ]);
    expect(labels[0]!.labeler).to.equal('lab-labeler/fast');
    expect(d.pending).to.equal(0);
  });

  it('labels the slow lane only in batches, every batch interval of event time', () => {
    const d = desk();
    const first = mention();
    d.offer(first, 'slow');
    expect(d.advanceTo(12 * MIN + 23 * HOUR)).to.deep.equal([]);
    const later = mention({ window_start: 12 * MIN + 23 * HOUR, window_end: 13 * MIN + 23 * HOUR });
    d.offer(later, 'slow');
    const batch = d.advanceTo(12 * MIN + 24 * HOUR);
    expect(batch.map((l) => l.mention_id)).to.deep.equal([first.mention_id, later.mention_id]);
    expect(batch.every((l) => l.labeled_at === 12 * MIN + 24 * HOUR)).to.equal(true);
    const after = mention({ window_start: 25 * HOUR, window_end: 25 * HOUR + MIN });
    d.offer(after, 'slow');
    expect(d.advanceTo(12 * MIN + 47 * HOUR)).to.deep.equal([]);
    expect(d.advanceTo(12 * MIN + 48 * HOUR).map((l) => l.mention_id)).to.deep.equal([after.mention_id]);
  });

  it('labels a mention once: the fast-lane copy wins over its slow-lane original, and redeliveries are counted', () => {
    const d = desk();
    const m = mention();
    expect(d.offer(m, 'fast')).to.equal(true);
    expect(d.offer(m, 'slow')).to.equal(false);
    expect(d.offer(m, 'fast')).to.equal(false);
    expect(d.advanceTo(100 * HOUR)).to.have.length(1);
    expect(d.counts.duplicates).to.equal(2);
    expect(d.counts.labelled).to.deep.equal({ fast: 1, slow: 0 });
    // The other order: the original first, then its fast-lane copy.
    const other = mention();
    d.offer(other, 'slow');
    d.offer(other, 'fast');
    expect(d.advanceTo(101 * HOUR).map((l) => l.labeler)).to.deep.equal(['lab-labeler/fast']);
  });

  it('a fast-lane copy read after its lane lagged is labelled as soon as it is seen, at its due time', () => {
    const d = desk();
    const m = mention();
    d.offer(m, 'slow');
    d.offer(mention({ window_start: 5 * HOUR, window_end: 5 * HOUR + MIN }), 'slow');
    expect(d.advanceTo(5 * HOUR + MIN)).to.deep.equal([]);
    d.offer(m, 'fast');
    const labels = d.advanceTo(5 * HOUR + MIN);
    expect(labels.map((l) => [l.mention_id, l.labeler, l.labeled_at])).to.deep.equal([[m.mention_id, 'lab-labeler/fast', 14 * MIN]]);
  });

  it('never labels a shadow mention', () => {
    const d = desk();
    expect(d.offer(mention({ shadow: true }), 'fast')).to.equal(false);
    expect(d.advanceTo(100 * HOUR)).to.deep.equal([]);
  });

  it('keeps to its capacity per hour of event time; what waits is labelled later, fast lane first', () => {
    const d = desk({ capacityPerHour: 2 });
    const slow = mention({ window_end: 0 });
    d.offer(slow, 'slow');
    const fast = [mention(), mention(), mention()];
    for (const m of fast) d.offer(m, 'fast');
    const first = d.advanceTo(24 * HOUR);
    expect(first.map((l) => l.mention_id)).to.deep.equal([fast[0]!.mention_id, fast[1]!.mention_id]);
    expect(d.counts.waitedForCapacity).to.equal(2);
    const second = d.advanceTo(24 * HOUR + HOUR / 2);
    expect(second.map((l) => l.mention_id)).to.deep.equal([fast[2]!.mention_id]);
    expect(second[0]!.labeled_at).to.equal(24 * HOUR + HOUR / 2);
    expect(d.advanceTo(25 * HOUR).map((l) => l.mention_id)).to.deep.equal([slow.mention_id]);
  });

  it('flush labels everything pending, whatever the lane', () => {
    const d = desk({ capacityPerHour: 1 });
    d.offer(mention(), 'slow');
    d.offer(mention(), 'fast');
    d.advanceTo(13 * MIN);
    expect(d.flush()).to.have.length(2);
    expect(d.pending).to.equal(0);
  });

  it('bounds what is pending: the oldest mention is dropped and counted', () => {
    const d = desk({ maxPending: 2 });
    const [a, b, c] = [mention(), mention(), mention()];
    d.offer(a, 'slow');
    d.offer(b, 'slow');
    d.offer(c, 'slow');
    expect(d.counts.dropped).to.equal(1);
    expect(d.flush().map((l) => l.mention_id)).to.deep.equal([b.mention_id, c.mention_id]);
  });

  it('rejects bad options, naming the option and what it accepts', () => {
    expect(() => new LabelDesk({ incidents, unsureShare: 2 })).to.throw(RangeError, /unsureShare must be in \[0, 1\]/);
    expect(() => new LabelDesk({ incidents, fastDelayMs: [5, 1] })).to.throw(RangeError, /fastDelayMs must be \[min, max\]/);
    expect(() => new LabelDesk({ incidents, capacityPerHour: 0 })).to.throw(RangeError, /capacityPerHour must be > 0/);
    expect(() => new LabelDesk({ incidents, maxPending: 0 })).to.throw(RangeError, /maxPending/);
  });

  it('property: the same mentions get the same labels whatever order they arrive in', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ segment: fc.constantFrom('rare', 'common'), start: fc.integer({ min: 0, max: 40 }) }), { minLength: 1, maxLength: 30 }), fc.integer(), (specs, seed) => {
        const mentions = specs.map((s, i) => mention({ mention_id: `p-${i}`, segment: s.segment, window_start: s.start * MIN, window_end: (s.start + 1) * MIN }));
        const labelsOf = (order: Mention[]): string[] => {
          const d = new LabelDesk({ incidents, seed, unsureShare: 0.3, wrongShare: 0.3, capacityPerHour: Infinity });
          for (const m of order) d.offer(m, 'fast');
          return d.flush().map((l) => `${l.mention_id}:${l.verdict}`).sort();
        };
        expect(labelsOf([...mentions].reverse())).to.deep.equal(labelsOf(mentions));
      }),
    );
  });

  it('property: with no errors and no unsure labels, every verdict is the ground truth; with them, the shares are near their settings', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('rare', 'common'), { minLength: 1, maxLength: 50 }), (segments) => {
        const d = desk();
        const mentions = segments.map((segment) => mention({ segment }));
        for (const m of mentions) d.offer(m, 'fast');
        const verdicts = new Map(d.flush().map((l) => [l.mention_id, l.verdict]));
        for (const m of mentions) expect(verdicts.get(m.mention_id)).to.equal(m.segment === 'rare' ? 'TRUE_POSITIVE' : 'FALSE_POSITIVE');
      }),
    );
    const noisy = new LabelDesk({ incidents, unsureShare: 0.2, wrongShare: 0.1, capacityPerHour: Infinity, seed: 3 });
    for (let i = 0; i < 4000; i++) noisy.offer(mention({ segment: 'common' }), 'fast');
    noisy.flush();
    expect(noisy.counts.verdicts.UNSURE / 4000).to.be.within(0.17, 0.23);
    expect(noisy.counts.verdicts.TRUE_POSITIVE / (4000 - noisy.counts.verdicts.UNSURE)).to.be.within(0.08, 0.12);
  });
});
