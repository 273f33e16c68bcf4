import { expect } from 'chai';
import fc from 'fast-check';
import { checkPressureOptions, PressureValve } from '../../operators/pressure-valve.js';

describe('operators: pressure valve (enrich, parallelDetect)', () => {
  it('checks its options by name and range', () => {
    expect(checkPressureOptions('op', {})).to.deep.equal({ pauseAt: 1000, maxPending: 100_000 });
    expect(() => checkPressureOptions('op', { pauseAtPendingRecords: 0 })).to.throw(RangeError, /op: option 'pauseAtPendingRecords' must be an integer in \[1, 10000000\]/);
    expect(() => checkPressureOptions('op', { pauseAtPendingRecords: 10, maxPendingRecords: 9 })).to.throw(RangeError, /'maxPendingRecords' must be an integer in \[10, /);
  });

  it('pauses at the mark, resumes at half of it, and fails beyond the limit', () => {
    const calls: boolean[] = [];
    const valve = new PressureValve({ pauseAt: 4, maxPending: 6 }, (paused) => calls.push(paused), (limit) => new Error(`over ${limit}`));
    for (const held of [1, 2, 3]) expect(valve.admit(held)).to.equal(null);
    expect(calls).to.deep.equal([]);
    expect(valve.admit(4)).to.equal(null);
    expect(valve.admit(5)).to.equal(null);
    expect(calls).to.deep.equal([true]);
    valve.released(3);
    expect(calls).to.deep.equal([true]);
    valve.released(2);
    expect(calls).to.deep.equal([true, false]);
    expect(valve.admit(7)?.message).to.equal('over 6');
  });

  it('property: pause and resume alternate, starting with a pause, and a pause is told only at or above the mark', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.boolean(), { maxLength: 200 }), (pauseAt, moves) => {
        const calls: { paused: boolean; held: number }[] = [];
        let held = 0;
        const valve = new PressureValve({ pauseAt, maxPending: 1e6 }, (paused) => calls.push({ paused, held }), () => new Error('overflow'));
        for (const hold of moves) {
          if (hold) {
            held++;
            expect(valve.admit(held)).to.equal(null);
          } else if (held > 0) {
            held--;
            valve.released(held);
          }
        }
        calls.forEach((call, i) => {
          expect(call.paused).to.equal(i % 2 === 0);
          if (call.paused) expect(call.held).to.be.at.least(pauseAt);
          else expect(call.held).to.be.at.most(Math.floor(pauseAt / 2));
        });
      }),
    );
  });
});
