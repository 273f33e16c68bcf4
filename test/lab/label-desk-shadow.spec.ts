/** The labelers' shadow lane: a share of shadow mentions labelled, and the live lanes' labels unchanged by it. */
import { expect } from 'chai';
import fc from 'fast-check';
import { LabelDesk, type LabelDeskOptions } from '../../lab/labeler/label-desk.js';
import type { IncidentWindow } from '../../lab/evaluate/incident-match.js';
import type { Label, Mention } from '../../schemas/index.js';

const MIN = 60_000;
const incidents: IncidentWindow[] = [{ model_id: 'm1', segment: 'rare', field: 'latency_ms', start: 10 * MIN, end: 20 * MIN }];

function mention(id: string, overrides: Partial<Mention> = {}): Mention {
  return {
    mention_id: id, emitted_at: 1_000, window_start: 11 * MIN, window_end: 12 * MIN, model_id: 'm1', model_version: 'v1', tenant: 't', segment: 'rare',
    field: 'latency_ms', direction: 'HIGH', detector: 'sketch-cusum', score: 1, cluster_id: 'c', event_count: 2, evidence_event_ids: [], shadow: false, attributes: {},
    ...overrides,
  };
}

function desk(options: Partial<LabelDeskOptions> = {}): LabelDesk {
  return new LabelDesk({ incidents, unsureShare: 0, wrongShare: 0, fastDelayMs: [2 * MIN, 2 * MIN], ...options });
}

describe('lab: LabelDesk shadow lane', () => {
  it('labels shadow mentions on the fast timing with labeller <name>/shadow, and only shadow ones', () => {
    const d = desk({ shadowShare: 1 });
    expect(d.offerShadow(mention('m-live'))).to.equal(false);
    expect(d.offerShadow(mention('shadow:sketch-cusum:a', { shadow: true }))).to.equal(true);
    expect(d.offerShadow(mention('shadow:sketch-cusum:b', { shadow: true, segment: 'common' }))).to.equal(true);
    expect(d.offerShadow(mention('shadow:sketch-cusum:b', { shadow: true, segment: 'common' })), 'once per id').to.equal(false);
    d.offer(mention('m-live'), 'fast');
    const labels = d.advanceTo(14 * MIN);
    expect(labels.map((l) => [l.mention_id, l.verdict, l.labeler])).to.have.deep.members([
      ['shadow:sketch-cusum:a', 'TRUE_POSITIVE', 'lab-labeler/shadow'],
      ['shadow:sketch-cusum:b', 'FALSE_POSITIVE', 'lab-labeler/shadow'],
      ['m-live', 'TRUE_POSITIVE', 'lab-labeler/fast'],
    ]);
    expect(d.shadowCounts).to.deep.include({ offered: 2, sampled: 2, labelled: 2 });
    expect(d.counts.labelled.fast).to.equal(1);
  });

  it('samples about shadowShare of the shadow mentions, the same ones on every run', () => {
    const run = (): string[] => {
      const d = desk({ shadowShare: 0.2 });
      for (let i = 0; i < 2000; i++) d.offerShadow(mention(`shadow:x:${i}`, { shadow: true }));
      return d.flush().map((l) => l.mention_id);
    };
    const first = run();
    expect(first.length).to.be.within(320, 480);
    expect(run()).to.deep.equal(first);
  });

  it('property: the live lanes get the same labels whatever shadow mentions come in between (capacity included)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.constantFrom('fast', 'slow') as fc.Arbitrary<'fast' | 'slow'>, fc.integer({ min: 0, max: 600 })), { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 20 }), (items, capacity) => {
        const labelsOf = (withShadow: boolean): Label[] => {
          const d = desk({ shadowShare: 1, capacityPerHour: capacity, slowBatchEveryMs: [60 * MIN, 60 * MIN] });
          const out: Label[] = [];
          items.forEach(([shadow, lane, minute], i) => {
            const m = mention(shadow ? `shadow:s:${i}` : `m-${i}`, { shadow, window_start: minute * MIN, window_end: (minute + 1) * MIN });
            if (shadow) {
              if (withShadow) d.offerShadow(m);
            } else d.offer(m, lane);
            if (!shadow) out.push(...d.advanceTo((minute + 1) * MIN));
          });
          out.push(...d.flush());
          return out.filter((l) => !l.mention_id.startsWith('shadow:'));
        };
        expect(labelsOf(true)).to.deep.equal(labelsOf(false));
      }),
    );
  });
});
