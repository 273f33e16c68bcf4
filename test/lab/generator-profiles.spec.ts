import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FIELD_SIGMA, generateStream, INCIDENT_KINDS, PROFILE_NAMES, readGroundTruth, SEGMENT_NAMES, streamShape, writeGroundTruth, type ProfileName, type StreamOptions } from '../../lab/generator/index.js';
import { modelMetadata } from '../../lab/model-registry/metadata.js';
import type { InferenceEvent } from '../../schemas/index.js';

/** sha256 of the first `n` events as JSON lines, and of the ground truth. */
function digest(options: StreamOptions, n: number): { events: string; truth: string } {
  const stream = generateStream(options);
  const hash = createHash('sha256');
  let i = 0;
  for (const event of stream.events) if (i++ < n) hash.update(`${JSON.stringify(event)}\n`);
  return { events: hash.digest('hex'), truth: createHash('sha256').update(JSON.stringify(stream.truth())).digest('hex') };
}

/** Every event of a profile's stream (300k events: 3–5 h of event time), and its truth; cached per profile. */
const cache = new Map<ProfileName, { events: InferenceEvent[]; truth: ReturnType<ReturnType<typeof generateStream>['truth']> }>();
function profileStream(profile: ProfileName): { events: InferenceEvent[]; truth: ReturnType<ReturnType<typeof generateStream>['truth']> } {
  let entry = cache.get(profile);
  if (entry === undefined) {
    const stream = generateStream({ count: 300_000, seed: 7, profile });
    entry = { events: [...stream.events], truth: stream.truth() };
    cache.set(profile, entry);
  }
  return entry;
}

const MINUTE = 60_000;

describe('lab: generator profiles', function () {
  this.timeout(120_000);

  // Computed on main before profiles existed (commit 5badf00): the default stream must stay what the
  // lab's figures and the other tests were measured on.
  it('leaves the default stream exactly as it was (hash pinned on the generator before profiles)', () => {
    const pinned200k = { events: 'ef85c430b42d1fb0bcfe9a07963a1d53079b7b606ba8637eeff9f037f5585146', truth: 'f6c8afc19256fe591d0e451216734f2cc59864cbbb9790ab55d53718bee3f59c' };
    const pinned30k = { events: 'f96d4ce37155e4dba768e19b1891221d7333cf0d3c7d4f283cd848690f247bc4', truth: 'a09115f635bea287f05aeb373851f88ecde7a4c9ed29a24bacec7a1703fa40fa' };
    expect(digest({ count: 200_000, seed: 7 }, 20_000)).to.deep.equal(pinned200k);
    expect(digest({ count: 30_000, seed: 1001 }, 30_000)).to.deep.equal(pinned30k);
    expect(digest({ count: 30_000, seed: 1001, profile: 'default' }, 30_000)).to.deep.equal(pinned30k);
  });

  for (const profile of PROFILE_NAMES.filter((p) => p !== 'default')) {
    it(`${profile}: is deterministic (same seed, same events and truth; another seed, others)`, () => {
      const a = digest({ count: 40_000, seed: 11, profile }, 40_000);
      expect(digest({ count: 40_000, seed: 11, profile }, 40_000)).to.deep.equal(a);
      expect(digest({ count: 40_000, seed: 12, profile }, 40_000).events).to.not.equal(a.events);
    });
  }

  it('rejects an unknown profile, naming the profiles', () => {
    expect(() => generateStream({ count: 10, profile: 'flat' as ProfileName })).to.throw(RangeError, /profile.*default, few-hot, many-flat, noisy/);
  });

  for (const profile of PROFILE_NAMES.filter((p) => p !== 'default')) {
    it(`${profile}: has the segments, model ids and incidents it claims`, () => {
      const shape = streamShape(profile);
      const { events, truth } = profileStream(profile);
      const spanMs = truth.run.end_ms - truth.run.start_ms;
      const models = new Map<string, number>();
      const segmentsOf = new Map<string, Set<string>>();
      for (const e of events) {
        models.set(e.model_id, (models.get(e.model_id) ?? 0) + 1);
        segmentsOf.set(e.model_id, (segmentsOf.get(e.model_id) ?? new Set()).add(e.segment));
      }
      expect(events).to.have.length(300_000);
      expect(models.size).to.equal(shape.models);
      expect(new Set(events.map((e) => e.segment))).to.have.keys([...shape.segments]);
      const hottest = Math.max(...models.values());
      // Ids of other forms than model-NNN: the lab registry knows none of them.
      for (const id of models.keys()) {
        expect(id).to.not.match(/^model-\d+$/);
        expect(modelMetadata(id, { models: Number.MAX_SAFE_INTEGER }), id).to.equal(undefined);
      }
      expect(truth.run.profile).to.equal(profile);
      // Every kind, feature shifts and output-token growth among them; sizes in σ within the profile's range.
      expect(new Set(truth.incidents.map((i) => i.kind))).to.have.keys([...INCIDENT_KINDS]);
      const [low, high] = shape.incidents!.severitySigma;
      for (const incident of truth.incidents) {
        const s = incident.severity_sigma!;
        expect(s, incident.id).to.be.within(low, high);
        const expected: Record<string, number> = {
          'latency-shift': Math.exp(FIELD_SIGMA.logLatency * s),
          'latency-spikes': Math.exp(2 * FIELD_SIGMA.logLatency * s),
          'confidence-drop': FIELD_SIGMA.confidence * s,
          'prediction-shift': FIELD_SIGMA.predictionLogit * s,
          'feature-drift': FIELD_SIGMA.feature * s,
          'token-blowup': Math.exp(FIELD_SIGMA.logOutputTokens * s),
        };
        expect(Math.abs(incident.magnitude), incident.id).to.be.closeTo(expected[incident.kind]!, 1e-9);
        const length = incident.end - incident.start;
        expect(length, incident.id).to.be.at.least(Math.min(5 * MINUTE, 0.4 * spanMs) - 1).and.at.most(Math.min(2 * 60 * MINUTE, 0.4 * spanMs) + 1);
        expect(segmentsOf.get(incident.model_id), incident.id).to.not.equal(undefined);
      }
      // Subtle ones exist (≤ 1.5 σ) where the profile's range starts there.
      if (low <= 1) expect(truth.incidents.some((i) => i.severity_sigma! <= 1.5)).to.equal(true);
      if (profile === 'few-hot') {
        expect(shape.segments).to.have.length(4);
        expect(hottest / events.length).to.be.above(0.5);
        expect([...models.keys()]).to.include('fraud.scorer-v3');
      }
      if (profile === 'many-flat') {
        expect(shape.segments).to.have.length(12);
        expect(hottest / events.length).to.be.below(0.05);
        for (const id of models.keys()) expect(id).to.match(/^[a-z]+\/[a-z]+-\d{3}$/);
      }
    });
  }

  it('noisy: has slow bursts over a whole model, outages, stream-wide gaps and a strong cycle, none of them incidents', () => {
    const { events, truth } = profileStream('noisy');
    const noise = truth.noise!;
    for (const kind of ['slow-burst', 'model-outage', 'stream-gap']) expect(noise.some((n) => n.kind === kind), kind).to.equal(true);
    // An outage: its model sends nothing while it lasts.
    for (const outage of noise.filter((n) => n.kind === 'model-outage')) {
      expect(events.some((e) => e.model_id === outage.model_id && e.ts >= outage.start && e.ts < outage.end), `${outage.model_id} ${outage.start}`).to.equal(false);
    }
    // A gap: nobody sends anything for its length (≥ 2 min).
    const sorted = events.map((e) => e.ts).sort((a, b) => a - b);
    let widest = 0;
    for (let i = 1; i < sorted.length; i++) widest = Math.max(widest, sorted[i]! - sorted[i - 1]!);
    expect(widest).to.be.at.least(2 * MINUTE);
    // A slow burst on the hottest model: its latency is well above the same model's outside bursts, in every segment.
    const counts = new Map<string, number>();
    for (const e of events) counts.set(e.model_id, (counts.get(e.model_id) ?? 0) + 1);
    const hot = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
    const bursts = noise.filter((n) => n.kind === 'slow-burst' && n.model_id === hot && n.end - n.start >= MINUTE);
    expect(bursts.length).to.be.greaterThan(0);
    const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const inBurst = (e: InferenceEvent): boolean => bursts.some((b) => e.ts >= b.start && e.ts < b.end);
    const hotEvents = events.filter((e) => e.model_id === hot);
    const ratio = median(hotEvents.filter(inBurst).map((e) => e.latency_ms)) / median(hotEvents.filter((e) => !inBurst(e)).map((e) => e.latency_ms));
    expect(ratio).to.be.above(1.3);
    expect(new Set(hotEvents.filter(inBurst).map((e) => e.segment)).size).to.be.at.least(4);
    // The cycle: the busiest quarter hour has more than three times the events of the quietest full one.
    const buckets = new Map<number, number>();
    for (const ts of sorted) buckets.set(Math.floor((ts - truth.run.start_ms) / (15 * MINUTE)), (buckets.get(Math.floor((ts - truth.run.start_ms) / (15 * MINUTE))) ?? 0) + 1);
    const full = [...buckets].filter(([b]) => b < Math.floor((truth.run.end_ms - truth.run.start_ms) / (15 * MINUTE))).map(([, n]) => n);
    expect(Math.max(...full) / Math.min(...full)).to.be.above(3);
  });

  it('the default profile has none of it: no noise, no profile in the run, the default segments and ids', () => {
    const stream = generateStream({ count: 20_000, seed: 3 });
    const events = [...stream.events];
    const truth = stream.truth();
    expect(truth).to.not.have.property('noise');
    expect(truth.run).to.not.have.property('profile');
    expect(new Set(events.map((e) => e.segment))).to.have.keys([...SEGMENT_NAMES]);
    for (const e of events) expect(e.model_id).to.match(/^model-\d{3}$/);
  });

  it('writes and reads the noise episodes of the ground truth file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'truth-profile-'));
    try {
      const stream = generateStream({ count: 50_000, seed: 5, profile: 'noisy' });
      for (const _ of stream.events);
      const truth = stream.truth();
      expect(truth.noise!.length).to.be.greaterThan(0);
      await writeGroundTruth(path.join(dir, 'truth.jsonl'), truth);
      expect(await readGroundTruth(path.join(dir, 'truth.jsonl'))).to.deep.equal(truth);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
