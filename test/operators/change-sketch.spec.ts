import { expect } from 'chai';
import fc from 'fast-check';
import { from, map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { testEnvelope, type Envelope } from '../../core/envelope.js';
import { changeSketch, type ChangeSketchOptions, type Sketched } from '../../operators/change-sketch.js';
import { alarmLevelFor, siegmundArl, siegmundLevel, SketchTable, targetArl, transformValue } from '../../operators/change-sketch/index.js';
import { OperatorStateHandle } from '../../core/state.js';
import { SeededRandom } from '../../core/random.js';

interface Rec {
  readonly key: string;
  readonly model?: string;
  readonly x: number;
}

const newScheduler = () =>
  new TestScheduler((actual, expected) => {
    expect(actual).to.deep.equal(expected);
  });

const at = (x: number, eventTimeMs: number, key = 'a', model?: string): Envelope<Rec> => testEnvelope(model === undefined ? { key, x } : { key, x, model }, { eventTimeMs });
const fixed = (h: number, extra: Partial<ChangeSketchOptions<Rec>> = {}): ChangeSketchOptions<Rec> => ({
  keyOf: (r) => r.key,
  fields: [{ name: 'x', valueOf: (r) => r.x }],
  level: { fixed: h },
  warmupPoints: 5,
  ...extra,
});
/** Five warm-up values with median 0 and MAD 1 (scale 1.4826). */
const WARM = [-1, 1, 0, -1.5, 1.5];

function run(envelopes: Envelope<Rec>[], options: ChangeSketchOptions<Rec>): Sketched<Rec>[] {
  const out: Sketched<Rec>[] = [];
  from(envelopes).pipe(changeSketch(options)).subscribe((e) => out.push(e.value));
  return out;
}
const brief = (s: Sketched<Rec>): string => s.alarms.map((a) => `${a.field}:${a.direction}`).join(',') || '.';

describe('changeSketch', () => {
  describe('the rxjs checklist', () => {
    it('completes on empty', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold<Envelope<Rec>>('|').pipe(changeSketch(fixed(6)))).toBe('|');
      });
    });

    it('stays silent on never', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold<Envelope<Rec>>('-').pipe(changeSketch(fixed(6)))).toBe('-');
      });
    });

    it('passes one value on at once, with no alarm while it warms up', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const source = cold('a|', { a: at(3, 1) });
        expectObservable(source.pipe(changeSketch(fixed(6)), map((e) => `${e.value.record.x}:${brief(e.value)}:${e.value.suspicion}`))).toBe('a|', { a: '3:.:0' });
      });
    });

    it('alarms on a shift and ends the episode soon after it (many values)', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const values = [...WARM, 0, 20, 20, 20, 20, 0, 0, 0];
        const marbles = `${values.map((_, i) => String.fromCharCode(97 + i)).join('')}|`;
        const source = cold(marbles, Object.fromEntries(values.map((x, i) => [String.fromCharCode(97 + i), at(x, i)])));
        // z(20) > 4 even on the guarded scale (the MAD's ×(1 + 2/√(2 · 0.367 · 5))), clipped at 4; k is
        // 0.5 plus a guard band of two standard errors of a 5-value median (≈ 1.1): S⁺ ≈ 2.4, 4.8,
        // 7.1 (≥ h = 6: the episode starts), 7.5 (the cap, 1.25 h); the first 0 takes about 1.6 off,
        // below h: the episode ends.
        expectObservable(source.pipe(changeSketch(fixed(6)), map((e) => brief(e.value)))).toBe('nnnnnnnnuunnn|', { n: '.', u: 'x:up' });
      });
    });

    it('passes an error on', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold('a-#', { a: at(1, 1) }, new Error('boom')).pipe(changeSketch(fixed(6)), map(() => 'v'))).toBe('v-#', { v: 'v' }, new Error('boom'));
      });
    });

    it('keeps passing values on a never-ending source', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold('a-b-', { a: at(1, 1), b: at(2, 2) }).pipe(changeSketch(fixed(6)), map(() => 'v'))).toBe('v-v-', { v: 'v' });
      });
    });

    it('unsubscribes from the source on early unsubscribe', () => {
      newScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot('-a-b-c-', { a: at(1, 1), b: at(2, 2), c: at(3, 3) });
        expectObservable(source.pipe(changeSketch(fixed(6)), map(() => 'v')), '^--!').toBe('-v--', { v: 'v' });
        expectSubscriptions(source.subscriptions).toBe('^--!');
      });
    });

    it('errors when a callback throws', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const options = fixed(6, { keyOf: (r) => { if (r.x === 2) throw new Error('bad key'); return r.key; } });
        expectObservable(cold('a-b|', { a: at(1, 1), b: at(2, 2) }).pipe(changeSketch(options), map(() => 'v'))).toBe('v-#', { v: 'v' }, new Error('bad key'));
      });
    });
  });

  describe('options', () => {
    it('names the option and its range when one is out of range', () => {
      expect(() => changeSketch(fixed(6, { referenceK: 0 }))).to.throw(RangeError, /referenceK.*\(0, 4\]/);
      expect(() => changeSketch(fixed(6, { warmupPoints: 2 }))).to.throw(RangeError, /warmupPoints.*\[5, 10000\]/);
      expect(() => changeSketch({ ...fixed(6), fields: [] })).to.throw(RangeError, /fields/);
      expect(() => changeSketch({ ...fixed(6), fields: [{ name: 'x', valueOf: (r) => r.x, transform: 'sqrt' as never }] })).to.throw(RangeError, /transform/);
      expect(() => changeSketch({ ...fixed(6), level: { falseAlarmsPerHour: 0 } })).to.throw(RangeError, /falseAlarmsPerHour/);
      expect(() => changeSketch({ ...fixed(6), keyOf: undefined as never })).to.throw(TypeError, /keyOf/);
      expect(() => changeSketch(fixed(6, { peerWindowMs: -1 }))).to.throw(RangeError, /peerWindowMs.*\[0, 1000000000000\]/);
      expect(() => changeSketch(fixed(6, { minEpisodeMs: Number.NaN }))).to.throw(RangeError, /minEpisodeMs/);
      expect(() => changeSketch(fixed(6, { relativeToFallback: 'yes' as never }))).to.throw(TypeError, /relativeToFallback.*true or false/);
    });
  });

  describe('detection', () => {
    const noisy = (n: number, seed: number, shift: (i: number) => number = () => 0, key = 'a'): Envelope<Rec>[] => {
      const random = SeededRandom.fromSeed(seed);
      return Array.from({ length: n }, (_, i) => {
        const u = random.nextOpenFloat();
        const v = random.nextFloat();
        return at(Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v) + shift(i), i * 1000, key, 'm');
      });
    };

    it('finds a 3σ shift down within a few records and stays quiet after it', () => {
      const out = run(noisy(600, 1, (i) => (i >= 300 && i < 340 ? -3 : 0)), fixed(10, { warmupPoints: 50 }));
      const alarmed = out.map((s, i) => (s.alarms.length > 0 ? i : -1)).filter((i) => i >= 0);
      expect(alarmed[0]).to.be.within(300, 310);
      expect(out[alarmed[0]!]!.alarms[0]!.direction).to.equal('down');
      expect(alarmed[alarmed.length - 1]).to.be.within(330, 350);
      expect(alarmed.every((i) => i >= 300)).to.equal(true);
    });

    it('scores a cold key against its fallback baseline plus its offset', () => {
      const warmModel = noisy(400, 2, () => 0, 'm|common');
      const rare = noisy(45, 3, (i) => (i >= 30 ? 4 : 0.5), 'm|rare').map((e, i) => ({ ...e, eventTimeMs: 400_000 + i * 1000 }));
      const out = run([...warmModel, ...rare], fixed(10, { warmupPoints: 50, fallbackKeyOf: (r) => r.model ?? r.key }));
      const rareAlarms = out.slice(400).map((s) => s.alarms);
      expect(rareAlarms.slice(0, 30).every((a) => a.length === 0)).to.equal(true);
      expect(rareAlarms.some((a) => a.some((x) => x.baseline === 'fallback' && x.direction === 'up'))).to.equal(true);
    });

    it('re-learns the baseline after an episode longer than relearnAfterMs', () => {
      const counts: { relearns: number }[] = [];
      const out = run(noisy(2000, 4, (i) => (i >= 200 ? 5 : 0)), fixed(10, { warmupPoints: 50, relearnAfterMs: 300_000, counts: (c) => counts.push({ relearns: c.relearns }) }));
      expect(counts[counts.length - 1]!.relearns).to.be.at.least(1);
      // After the new normal is learnt, the level shift no longer alarms.
      expect(out.slice(1000).every((s) => s.alarms.length === 0)).to.equal(true);
    });

    it("'auto' reads a probability on the logit scale and any other number as it is", () => {
      // A shift of +1.5 logits near p = 0.05 is a move of a few hundredths: on the logit scale the
      // CUSUM sees it whole; a field that leaves [0, 1] in its warm-up is read as it is.
      const logistic = (z: number): number => 1 / (1 + Math.exp(-z));
      const probabilities = noisy(400, 7, (i) => (i >= 300 ? 1.5 : 0)).map((e) => ({ ...e, value: { ...e.value, x: logistic(-3 + e.value.x * 0.5) } }));
      const auto = run(probabilities, fixed(8, { warmupPoints: 50, fields: [{ name: 'x', valueOf: (r) => r.x, transform: 'auto' }] }));
      expect(auto.slice(0, 300).every((s) => s.alarms.length === 0)).to.equal(true);
      expect(auto.slice(300).some((s) => s.alarms.some((a) => a.direction === 'up'))).to.equal(true);
      const values = noisy(400, 8, (i) => (i >= 300 ? 3 : 0));
      const plain = run(values, fixed(8, { warmupPoints: 50, fields: [{ name: 'x', valueOf: (r) => r.x, transform: 'auto' }] }));
      const identity = run(values, fixed(8, { warmupPoints: 50 }));
      expect(plain.map(brief)).to.deep.equal(identity.map(brief));
    });

    it('levelScales: a cell alarms at h × its factor, read again for a key when the version changes', () => {
      // A +2σ shift over records 300–311: at h = 8 it alarms; with the factor 3 (h = 24) on key a it does
      // not, and the alarm reports the scaled level; a factor set at record 250 acts from the next record.
      const shifted = noisy(420, 9, (i) => (i >= 300 && i < 312 ? 2 : 0));
      const asked: string[] = [];
      const scales = { version: 0, factor: 3, scaleOf: (key: string, fallbackKey: string | undefined, field: string) => (asked.push(`${key}/${fallbackKey}/${field}`), scales.factor) };
      const plain = run(shifted, fixed(8, { warmupPoints: 50 }));
      expect(plain.slice(300).some((s) => s.alarms.length > 0)).to.equal(true);
      const raised = run(shifted, fixed(8, { warmupPoints: 50, fallbackKeyOf: (r) => r.model ?? r.key, levelScales: scales }));
      expect(raised.every((s) => s.alarms.length === 0)).to.equal(true);
      expect(asked).to.deep.equal(['a/m/x'], 'read once per key while the version stays');
      scales.factor = 1.5;
      scales.version = 1;
      const again = run(shifted, fixed(8, { warmupPoints: 50, fallbackKeyOf: (r) => r.model ?? r.key, levelScales: scales }));
      const first = again.find((s) => s.alarms.length > 0)!;
      expect(first.alarms[0]!.level).to.be.closeTo(12, 1e-9);
      // Moved mid-stream: lowered back to 1 at record 250, the shift alarms at h = 8.
      const moving = { version: 0, scaleOf: () => 3 };
      const out: Sketched<Rec>[] = [];
      from(shifted).pipe(changeSketch(fixed(8, { warmupPoints: 50, levelScales: moving }))).subscribe((e) => {
        out.push(e.value);
        if (out.length === 250) Object.assign(moving, { version: 1, scaleOf: () => 1 });
      });
      expect(out.map(brief)).to.deep.equal(plain.map(brief));
      let error: unknown;
      from(shifted.slice(0, 1)).pipe(changeSketch(fixed(8, { levelScales: { version: 0, scaleOf: () => 0 } }))).subscribe({ error: (e: unknown) => (error = e) });
      expect(error).to.be.instanceOf(RangeError).with.property('message').that.matches(/levelScales.*> 0/);
      expect(() => changeSketch(fixed(8, { levelScales: { scaleOf: () => 1 } as never }))).to.throw(TypeError, /levelScales/);
    });

    it('keeps at most maxKeys keys and counts the evictions', () => {
      let last = { keys: 0, evictions: 0 };
      run(Array.from({ length: 50 }, (_, i) => at(i, i, `k${i}`)), fixed(6, { maxKeys: 8, counts: (c) => (last = { keys: c.keys, evictions: c.evictions }) }));
      expect(last.keys).to.equal(8);
      expect(last.evictions).to.equal(42);
    });

    it('continues exactly after a snapshot and restore (JSON round trip)', () => {
      const stream = [...noisy(300, 5), ...noisy(300, 6, (i) => (i % 100 < 20 ? 3 : 0), 'b').map((e) => ({ ...e, eventTimeMs: e.eventTimeMs + 1 }))].sort((x, y) => x.eventTimeMs - y.eventTimeMs);
      const options = fixed(8, { warmupPoints: 20, level: { falseAlarmsPerHour: 2 }, fallbackKeyOf: (r) => r.model ?? r.key });
      const whole = run(stream, options);
      const state = new OperatorStateHandle();
      run(stream.slice(0, 317), { ...options, state });
      const snapshot = JSON.parse(JSON.stringify(state.snapshot()));
      const restored = new OperatorStateHandle();
      restored.restore(snapshot);
      const rest = run(stream.slice(317), { ...options, state: restored });
      expect(rest.map((s) => [brief(s), s.suspicion])).to.deep.equal(whole.slice(317).map((s) => [brief(s), s.suspicion]));
      expect(whole.some((s) => s.alarms.length > 0)).to.equal(true);
    });
  });

  describe('model-wide shifts, cycles and transients', () => {
    const gaussian = (random: SeededRandom): number => Math.sqrt(-2 * Math.log(random.nextOpenFloat())) * Math.cos(2 * Math.PI * random.nextFloat());
    /**
     * One model, `segments` segments taking records in turn (`stepMs` apart, so each segment sees one
     * every segments × stepMs), N(0, 1) plus `shift(segment, t)`.
     */
    const model = (n: number, segments: number, seed: number, shift: (segment: number, t: number) => number, stepMs = 1000, weights?: readonly number[]): Envelope<Rec>[] => {
      const random = SeededRandom.fromSeed(seed);
      const cdf = (weights ?? Array.from({ length: segments }, () => 1)).map((w, i, all) => all.slice(0, i + 1).reduce((a, b) => a + b, 0) / all.reduce((a, b) => a + b, 0));
      return Array.from({ length: n }, (_, i) => {
        const t = i * stepMs;
        const segment = weights === undefined ? i % segments : cdf.findIndex((c) => random.nextFloat() < c || c === 1);
        return at(gaussian(random) + shift(segment, t), t, `m|s${segment}`, 'm');
      });
    };
    const options = (extra: Partial<ChangeSketchOptions<Rec>> = {}): ChangeSketchOptions<Rec> => fixed(10, { warmupPoints: 50, fallbackKeyOf: (r) => r.model ?? r.key, minEpisodeMs: 60_000, ...extra });
    /** Reported episodes: runs of alarmed records of one key × field × direction. */
    const episodes = (out: readonly Sketched<Rec>[]): { key: string; direction: string; first: number }[] => {
      const open = new Map<string, boolean>();
      const found: { key: string; direction: string; first: number }[] = [];
      out.forEach((s, i) => {
        for (const direction of ['up', 'down']) {
          const id = `${s.record.key}|${direction}`;
          const alarmed = s.alarms.some((a) => a.direction === direction);
          if (alarmed && open.get(id) !== true) found.push({ key: s.record.key, direction, first: i });
          open.set(id, alarmed);
        }
      });
      return found;
    };

    it('a shift of every segment of a model at once is common: counted, not reported per segment', () => {
      // 4 segments, one record a second; from 30 to 35 min every segment is 3σ up.
      const shift = (_: number, t: number): number => (t >= 1_800_000 && t < 2_100_000 ? 3 : 0);
      let common = 0;
      const out = run(model(3600, 4, 11, shift), options({ counts: (c) => (common = c.commonEpisodes) }));
      expect(episodes(out)).to.deep.equal([]);
      expect(common).to.be.within(1, 8);
      // Without the peer check, each segment reports it.
      const plain = run(model(3600, 4, 11, shift), options({ peerWindowMs: 0 }));
      expect(new Set(episodes(plain).map((e) => e.key)).size).to.equal(4);
    });

    it('a shift of one segment is still reported while the others stay put', () => {
      const out = run(model(3600, 4, 12, (s, t) => (s === 2 && t >= 1_800_000 && t < 2_400_000 ? 2 : 0)), options());
      const found = episodes(out);
      expect(found.map((e) => `${e.key} ${e.direction}`)).to.deep.equal(['m|s2 up']);
      // Reported once its shift has lasted a minute (its change point is the incident's start).
      const firstMs = found[0]!.first * 1000;
      expect(firstMs - 1_800_000).to.be.within(60_000, 180_000);
    });

    it('a rare segment follows its model through a slow cycle (its baseline is relative to the model)', () => {
      // A cycle of ±2σ over 3 h; one segment has 1 % of the traffic, so its own baseline would learn
      // the cycle from a value every couple of minutes. Its reference is the median of its 3 peers.
      const cycle = (_: number, t: number): number => 2 * Math.sin((2 * Math.PI * t) / 10_800_000);
      const stream = model(40_000, 4, 13, cycle, 500, [50, 30, 19, 1]);
      const relative = episodes(run(stream, options()));
      const absolute = episodes(run(stream, options({ relativeToFallback: false, peerWindowMs: 0 })));
      expect(relative).to.deep.equal([]);
      expect(absolute.length).to.be.above(0);
    });

    it('a shift or a drift of the biggest segment does not make the other segments alarm (their reference is a median over peers)', () => {
      // s0 has 60 % of the traffic, s1…s4 10 % each (6 values a minute: they read against their peers).
      // From 40 to 80 min s0 is 3σ up (a step), or drifts up to 3σ over its first 20 min.
      const stream = (shift: (t: number) => number, seed: number): Envelope<Rec>[] => {
        const random = SeededRandom.fromSeed(seed);
        return Array.from({ length: 7200 }, (_, i) => {
          const t = i * 1000;
          const segment = i % 10 < 6 ? 0 : (i % 10) - 5;
          return at(gaussian(random) + (segment === 0 ? shift(t) : 0), t, `m|s${segment}`, 'm');
        });
      };
      const inside = (t: number): boolean => t >= 2_400_000 && t < 4_800_000;
      const step = (t: number): number => (inside(t) ? 3 : 0);
      const drift = (t: number): number => (inside(t) ? 3 * Math.min(1, (t - 2_400_000) / 1_200_000) : 0);
      for (const [name, shift] of [['step', step], ['drift', drift]] as const) {
        for (const seed of [21, 22, 23]) {
          const found = episodes(run(stream(shift, seed), options()));
          expect(found.filter((e) => e.key !== 'm|s0'), `${name}, seed ${seed}`).to.deep.equal([]);
          if (name === 'step') expect(found.map((e) => `${e.key} ${e.direction}`), `${name}, seed ${seed}`).to.include('m|s0 up');
        }
      }
    });

    it('a transient shorter than minEpisodeMs is not reported; a sustained one is, a minute after it began', () => {
      const single = (from: number, to: number) => Array.from({ length: 1200 }, (_, i) => at(gaussian(SeededRandom.fromSeed(100 + i)) + (i >= from && i < to ? 4 : 0), i * 1000));
      expect(run(single(600, 630), fixed(10, { warmupPoints: 50, minEpisodeMs: 60_000 })).every((s) => s.alarms.length === 0)).to.equal(true);
      const sustained = run(single(600, 900), fixed(10, { warmupPoints: 50, minEpisodeMs: 60_000 }));
      const first = sustained.findIndex((s) => s.alarms.length > 0);
      // The change point the CUSUM estimates is its last zero, the record before the shift.
      expect(first).to.be.within(655, 680);
      expect(run(single(600, 630), fixed(10, { warmupPoints: 50 })).some((s) => s.alarms.length > 0)).to.equal(true);
    });

    it('property: a common shift yields at most one episode per model × field; a shift of one segment is reported', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 3, max: 6 }),
          fc.double({ min: 2, max: 5, noNaN: true }),
          fc.integer({ min: 30, max: 900 }),
          fc.boolean(),
          fc.integer({ min: 0, max: 1_000_000 }),
          (segments, size, seconds, up, seed) => {
            const sign = up ? 1 : -1;
            const inside = (t: number): boolean => t >= 1_800_000 && t < 1_800_000 + seconds * 1000;
            const common = episodes(run(model(3000, segments, seed, (_, t) => (inside(t) ? sign * size : 0)), options()));
            // At most one episode per model × field (the peer check needs the other segments' values
            // of the same minute; a segment that leads them by a few records may still be reported once).
            expect(common.length, 'common shift').to.be.at.most(1);
            if (seconds >= 300) {
              const own = episodes(run(model(3000, segments, seed, (s, t) => (s === 0 && inside(t) ? sign * size : 0)), options()));
              expect(own.map((e) => `${e.key} ${e.direction}`), 'one segment').to.include(`m|s0 ${up ? 'up' : 'down'}`);
            }
          },
        ),
        { numRuns: 40 },
      );
    });
  });

  describe('properties', () => {
    it('one output per input, in order, and scores never above 1', () => {
      fc.assert(
        fc.property(fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c'), x: fc.double({ min: -1e3, max: 1e3, noNaN: true }) }), { maxLength: 300 }), (records) => {
          const out = run(records.map((r, i) => at(r.x, i, r.key)), fixed(4));
          expect(out.map((s) => s.record)).to.deep.equal(records.map((r) => ({ key: r.key, x: r.x })));
          for (const s of out) for (const a of s.alarms) expect(a.score).to.be.within(0, 1);
        }),
      );
    });

    it("a key's alarms do not depend on other keys' records (no fallback, no eviction)", () => {
      fc.assert(
        fc.property(
          fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 1, maxLength: 200 }),
          fc.array(fc.tuple(fc.nat(200), fc.double({ min: -10, max: 10, noNaN: true })), { maxLength: 200 }),
          (own, others) => {
            const alone = run(own.map((x, i) => at(x, i * 10)), fixed(3)).map(brief);
            const mixed = own.map((x, i) => at(x, i * 10));
            for (const [position, x] of others) mixed.splice(Math.min(position, mixed.length), 0, at(x, 0, 'other'));
            const together = run(mixed, fixed(3)).filter((s) => s.record.key === 'a').map(brief);
            expect(together).to.deep.equal(alone);
          },
        ),
      );
    });
  });

  describe('alarm level', () => {
    it("inverts Siegmund's approximation and grows with the target run length", () => {
      for (const arl of [1e3, 1e5, 1e7]) expect(siegmundArl(siegmundLevel(arl, 0.5), 0.5)).to.be.closeTo(arl, arl * 1e-6);
      expect(alarmLevelFor(1e6, 0.5)).to.be.greaterThan(alarmLevelFor(1e4, 0.5));
      expect(targetArl(250_000, 8, 1)).to.equal(2_000_000);
      expect(targetArl(10, 1, 1)).to.equal(100);
    });

    it('measures the record rate over event time and sets the level from the budget', () => {
      const table = new SketchTable({ fields: ['x'], level: { falseAlarmsPerHour: 1 } });
      for (let i = 0; i <= 3600; i++) table.update('a', undefined, i * 1000, [0]);
      expect(table.recordsPerHour).to.be.closeTo(3601, 1);
      expect(table.level).to.be.closeTo(alarmLevelFor(3601, 0.5), 0.05);
    });

    it('transforms: log of 1 + x, logit of a clamped probability', () => {
      expect(transformValue('log', Math.E - 1)).to.be.closeTo(1, 1e-12);
      expect(transformValue('logit', 0.5)).to.equal(0);
      expect(Number.isFinite(transformValue('logit', 1))).to.equal(true);
      expect(Number.isNaN(transformValue('logit', 1.5))).to.equal(true);
    });
  });
});
