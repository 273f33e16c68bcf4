import { expect } from 'chai';
import fc from 'fast-check';
import { RestartPolicy } from '../../cli/restart-policy.js';

describe('RestartPolicy (restarts of a crashed --instances child)', () => {
  it('doubles the backoff for crashes in a row, caps it, and starts over after a healthy run', () => {
    const policy = new RestartPolicy({ maxRestarts: 100, initialBackoffMs: 1_000, maxBackoffMs: 5_000, healthyAfterMs: 60_000 });
    const waits = [0, 1, 2, 3, 4].map((i) => policy.onCrash(i * 1_000, 500));
    expect(waits.map((d) => (d.restart ? d.afterMs : -1))).to.deep.equal([1_000, 2_000, 4_000, 5_000, 5_000]);
    expect(policy.onCrash(100_000, 90_000)).to.deep.include({ restart: true, afterMs: 1_000 });
  });

  it('gives up once the window holds maxRestarts restarts, and restarts again after the window moved on', () => {
    const policy = new RestartPolicy({ maxRestarts: 2, windowMs: 10_000 });
    expect(policy.onCrash(0, 100).restart).to.equal(true);
    expect(policy.onCrash(1_000, 100).restart).to.equal(true);
    expect(policy.onCrash(2_000, 100)).to.deep.equal({ restart: false, restartsInWindow: 2 });
    expect(policy.onCrash(10_500, 100)).to.deep.include({ restart: true, restartsInWindow: 2 });
  });

  it('never restarts with maxRestarts 0', () => {
    expect(new RestartPolicy({ maxRestarts: 0 }).onCrash(0, 1e6).restart).to.equal(false);
  });

  it('rejects options out of range, naming the option', () => {
    expect(() => new RestartPolicy({ maxRestarts: -1 })).to.throw(RangeError, /maxRestarts -1: expected a whole number from 0 to 1000/);
    expect(() => new RestartPolicy({ windowMs: 1.5 })).to.throw(RangeError, /windowMs 1\.5/);
    expect(() => new RestartPolicy({ initialBackoffMs: 10_000, maxBackoffMs: 1_000 })).to.throw(RangeError, /maxBackoffMs 1000: expected at least initialBackoffMs/);
  });

  it('property: within any window, at most maxRestarts restarts; every wait lies in [initial, max]', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 1, max: 50_000 }),
        fc.array(fc.record({ gapMs: fc.integer({ min: 0, max: 20_000 }), ranForMs: fc.integer({ min: 0, max: 120_000 }) }), { maxLength: 60 }),
        (maxRestarts, windowMs, crashes) => {
          const policy = new RestartPolicy({ maxRestarts, windowMs, initialBackoffMs: 100, maxBackoffMs: 3_000 });
          const granted: number[] = [];
          let now = 0;
          for (const crash of crashes) {
            now += crash.gapMs;
            const decision = policy.onCrash(now, crash.ranForMs);
            if (!decision.restart) continue;
            expect(decision.afterMs).to.be.within(100, 3_000);
            granted.push(now);
            expect(granted.filter((t) => t > now - windowMs).length).to.be.at.most(maxRestarts);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
