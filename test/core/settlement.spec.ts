import { expect } from 'chai';
import { createSettlement, mergeSettlements, DoubleSettlementError } from '../../core/settlement.js';

describe('settlement', () => {
  it('settles once with the outcome given', () => {
    const seen: string[] = [];
    const s = createSettlement((o) => seen.push(o));
    s.settle('dropped');
    expect(seen).to.deep.equal(['dropped']);
    expect(() => s.settle('delivered')).to.throw(DoubleSettlementError);
  });

  it('settles a split parent only when every part has settled, with the best outcome', () => {
    const seen: string[] = [];
    const parts = createSettlement((o) => seen.push(o)).split(3);
    parts[0]!.settle('dropped');
    parts[1]!.settle('delivered');
    expect(seen).to.deep.equal([]);
    parts[2]!.settle('dead-lettered');
    expect(seen).to.deep.equal(['delivered']);
  });

  it('settles every member of a merge', () => {
    const seen: string[] = [];
    const members = [0, 1, 2].map((i) => createSettlement((o) => seen.push(`${i}:${o}`)));
    mergeSettlements(members).settle('delivered');
    expect(seen).to.deep.equal(['0:delivered', '1:delivered', '2:delivered']);
  });
});
