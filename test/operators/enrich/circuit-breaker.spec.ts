import { expect } from 'chai';
import fc from 'fast-check';
import { asyncScheduler, delay, map, NEVER, of, throwError } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { testEnvelope } from '../../../core/envelope.js';
import { enrich, EnrichCounters, type CircuitState } from '../../../operators/enrich.js';
import { CircuitBreaker, CircuitOpenError } from '../../../operators/enrich/index.js';

describe('enrich circuit breaker', () => {
  describe('CircuitBreaker (pure, injected clock)', () => {
    it('closed → open after failureThreshold failures in a row → half-open after openMs → closed on a probe success', () => {
      let nowMs = 0;
      const changes: string[] = [];
      const breaker = new CircuitBreaker({ failureThreshold: 3, openMs: 100, onStateChange: (s, p) => changes.push(`${p}>${s}`) }, () => nowMs);
      const t1 = breaker.tryAcquire()!;
      breaker.failed(t1);
      breaker.succeeded(breaker.tryAcquire()!); // a success in between resets the run of failures
      for (let i = 0; i < 2; i++) breaker.failed(breaker.tryAcquire()!);
      expect(breaker.state).to.equal('closed');
      const late = breaker.tryAcquire()!; // started before the circuit opens
      breaker.failed(breaker.tryAcquire()!);
      expect(breaker.state).to.equal('open');
      expect(breaker.tryAcquire()).to.equal(null);
      breaker.succeeded(late); // a lookup from before the opening says nothing about now
      expect(breaker.state).to.equal('open');
      nowMs = 100;
      expect(breaker.state).to.equal('half-open');
      const probe = breaker.tryAcquire()!;
      expect(probe.probe).to.equal(true);
      expect(breaker.tryAcquire(), 'one probe at a time').to.equal(null);
      breaker.succeeded(probe);
      expect(breaker.state).to.equal('closed');
      expect(changes).to.deep.equal(['closed>open', 'open>half-open', 'half-open>closed']);
      expect(breaker).to.include({ opens: 1, rejected: 2 });
    });

    it('a failed probe opens the circuit again for another openMs', () => {
      let nowMs = 0;
      const breaker = new CircuitBreaker({ failureThreshold: 1, openMs: 50, halfOpenProbes: 2 }, () => nowMs);
      breaker.failed(breaker.tryAcquire()!);
      nowMs = 50;
      const [a, b] = [breaker.tryAcquire()!, breaker.tryAcquire()!];
      expect(breaker.tryAcquire()).to.equal(null);
      breaker.failed(a);
      expect(breaker.state).to.equal('open');
      breaker.succeeded(b); // the other probe of the failed trial is stale now
      expect(breaker.state).to.equal('open');
      expect(breaker.openForMs).to.equal(50);
      nowMs = 99;
      expect(breaker.state).to.equal('open');
      nowMs = 100;
      expect(breaker.state).to.equal('half-open');
    });

    it('validates its options, naming the option and the range', () => {
      expect(() => new CircuitBreaker({ failureThreshold: 0 }, () => 0)).to.throw(RangeError, /circuitBreaker\.failureThreshold' must be an integer in \[1, 1000000\], got 0/);
      expect(() => new CircuitBreaker({ openMs: 1.5 }, () => 0)).to.throw(RangeError, /circuitBreaker\.openMs/);
      expect(() => new CircuitBreaker({ halfOpenProbes: 5000 }, () => 0)).to.throw(RangeError, /halfOpenProbes/);
      expect(() => new CircuitBreaker({ onStateChange: 'log' as never }, () => 0)).to.throw(TypeError, /onStateChange/);
      expect(() => enrich({ keyOf: String, lookup: async () => 1, circuitBreaker: { openMs: -1 } })).to.throw(RangeError, /circuitBreaker\.openMs/);
      expect(() => enrich({ keyOf: String, lookup: async () => 1, circuitBreaker: 5 as never })).to.throw(TypeError, /circuitBreaker' must be an object/);
    });

    it('property: refuses while open, at most halfOpenProbes trials, opens only after failureThreshold current failures in a row, half-open once openMs passed', () => {
      const step = fc.oneof(
        fc.constant({ kind: 'acquire' as const }),
        fc.record({ kind: fc.constant('finish' as const), ok: fc.boolean(), which: fc.nat() }),
        fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 80 }) }),
      );
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 3 }), fc.array(step, { maxLength: 200 }), (failureThreshold, openMs, halfOpenProbes, steps) => {
          let nowMs = 0;
          let failuresInRow = 0; // failures of current tickets while closed, since the last success or closing
          let openedAtMs = -1;
          const breaker = new CircuitBreaker(
            {
              failureThreshold,
              openMs,
              halfOpenProbes,
              onStateChange: (state, previous) => {
                if (state === 'open' && previous === 'closed') expect(failuresInRow).to.equal(failureThreshold);
                if (state === 'open') openedAtMs = nowMs;
                if (state === 'closed') failuresInRow = 0;
              },
            },
            () => nowMs,
          );
          const inFlight: NonNullable<ReturnType<CircuitBreaker['tryAcquire']>>[] = [];
          for (const s of steps) {
            if (s.kind === 'tick') nowMs += s.ms;
            else if (s.kind === 'acquire') {
              const openBefore = breaker.state === 'open';
              const ticket = breaker.tryAcquire();
              if (openBefore) expect(ticket).to.equal(null);
              if (ticket !== null) inFlight.push(ticket);
              // The epoch counts openings, so the current one is breaker.opens.
              expect(inFlight.filter((t) => t.probe && t.epoch === breaker.opens).length).to.be.at.most(halfOpenProbes);
            } else if (inFlight.length > 0) {
              const [ticket] = inFlight.splice(s.which % inFlight.length, 1);
              const countsWhileClosed = breaker.state === 'closed' && ticket!.epoch === breaker.opens;
              if (s.ok) {
                if (countsWhileClosed) failuresInRow = 0;
                breaker.succeeded(ticket!);
              } else {
                if (countsWhileClosed) failuresInRow++;
                breaker.failed(ticket!);
              }
            }
            if (openedAtMs >= 0 && nowMs - openedAtMs >= openMs) expect(breaker.state).to.not.equal('open');
          }
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('in enrich (virtual time)', () => {
    const newScheduler = () => new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
    const envelopes = Object.fromEntries('abcdefgh'.split('').map((k, i) => [k, testEnvelope({ key: k }, { offset: i })]));

    it('stops waiting on a dead service: after the threshold, records are flagged at once; a probe closes it when the service is back', () => {
      const counters = new EnrichCounters();
      const states: CircuitState[] = [];
      let serviceUpAtMs = Infinity;
      let calls = 0;
      newScheduler().run(({ cold, expectObservable }) => {
        const out = cold('a 9ms b 9ms c 9ms d 9ms e 59ms f|', envelopes).pipe(
          enrich<{ key: string }, string>({
            keyOf: (r) => r.key,
            maxCacheEntries: 0,
            timeoutMs: 5,
            retries: 0,
            lookup: (key) => {
              calls++;
              return asyncScheduler.now() >= serviceUpAtMs ? of(key.toUpperCase()).pipe(delay(1)) : NEVER;
            },
            circuitBreaker: { failureThreshold: 2, openMs: 50, onStateChange: (state) => states.push(state) },
            counters,
          }),
          map((e) => `${e.value.record.key}:${e.value.status}${e.value.error?.startsWith('CircuitOpenError') ? ':open' : ''}`),
        );
        serviceUpAtMs = 60;
        // a, b time out after 5 ms each (the second opens the circuit); c, d, e are refused at once;
        // f comes after openMs: the probe succeeds and closes the circuit.
        expectObservable(out).toBe('5ms a 9ms b 4ms c 9ms d 9ms e 59ms - (f|)', {
          a: 'a:failed', b: 'b:failed', c: 'c:failed:open', d: 'd:failed:open', e: 'e:failed:open', f: 'f:fetched',
        });
      });
      expect(calls).to.equal(3);
      expect(states).to.deep.equal(['open', 'half-open', 'closed']);
      expect(counters).to.include({ circuitOpens: 1, circuitRejected: 3, circuitState: 'closed', failures: 5 });
    });

    it('a refused record goes to deadLetter with CircuitOpenError when onFailure is dead-letter', () => {
      const errors: unknown[] = [];
      newScheduler().run(({ cold, expectObservable }) => {
        const out = cold('a b c|', envelopes).pipe(
          enrich<{ key: string }, string>({
            keyOf: (r) => r.key,
            lookup: () => throwError(() => new Error('down')),
            retries: 0,
            circuitBreaker: { failureThreshold: 1, openMs: 1000 },
            onFailure: 'dead-letter',
            deadLetter: (failure) => errors.push(failure.error),
          }),
        );
        expectObservable(out).toBe('---|');
      });
      expect(errors.map((e) => (e as Error).name)).to.deep.equal(['Error', 'CircuitOpenError', 'CircuitOpenError']);
      expect(errors[1]).to.be.instanceOf(CircuitOpenError);
    });
  });
});

