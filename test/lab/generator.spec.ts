import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generateStream, readGroundTruth, SEGMENT_NAMES, writeGroundTruth } from '../../lab/generator/index.js';
import { generateInferenceEvents } from '../../lab/generator/simple-stream.js';
import { InferenceEventContract } from '../../schemas/index.js';
import { createTopicSerde } from '../../runtime/serde/index.js';

function digest(seed: number, count: number): string {
  const serde = createTopicSerde({ contract: InferenceEventContract, topic: 'digest' });
  const hash = createHash('sha256');
  for (const event of generateStream({ count, seed }).events) hash.update(serde.encode(event).value);
  return hash.digest('hex');
}

describe('lab: generator', () => {
  it('is reproducible: same seed, same Avro bytes; another seed, other bytes', () => {
    expect(digest(11, 20_000)).to.equal(digest(11, 20_000));
    expect(digest(11, 20_000)).not.to.equal(digest(12, 20_000));
  });

  it('keeps event-time order per model and bounds the disorder across models', () => {
    const stream = generateStream({ count: 30_000, seed: 5, maxDisorderMs: 1500 });
    const last = new Map<string, number>();
    let maxTs = -Infinity;
    let worstLagMs = 0;
    let seen = 0;
    for (const event of stream.events) {
      seen++;
      expect(event.ts).to.be.at.least(last.get(event.model_id) ?? -Infinity);
      last.set(event.model_id, event.ts);
      worstLagMs = Math.max(worstLagMs, maxTs - event.ts);
      maxTs = Math.max(maxTs, event.ts);
    }
    expect(seen).to.equal(30_000);
    expect(worstLagMs).to.be.at.most(1500);
    expect(worstLagMs).to.be.above(0);
  });

  it('has Zipf-skewed models, rare segments at 0.5–2 %, and incidents of several kinds mostly in rare segments', () => {
    const stream = generateStream({ count: 100_000, seed: 3, incidents: 40 });
    const perModel = new Map<string, number>();
    const perSegment = new Map<string, number>();
    for (const event of stream.events) {
      perModel.set(event.model_id, (perModel.get(event.model_id) ?? 0) + 1);
      const key = `${event.model_id}|${event.segment}`;
      perSegment.set(key, (perSegment.get(key) ?? 0) + 1);
    }
    const top = perModel.get('model-000')!;
    expect(top / 100_000).to.be.above(0.15);
    expect(perModel.get('model-049') ?? 0).to.be.below(top / 20);
    const shares = SEGMENT_NAMES.map((s) => (perSegment.get(`model-000|${s}`) ?? 0) / top).sort((a, b) => a - b);
    expect(shares[0]).to.be.within(0.003, 0.025);
    expect(shares[1]).to.be.within(0.003, 0.025);
    expect(shares[2]).to.be.above(0.1);
    const truth = stream.truth();
    expect(new Set(truth.incidents.map((i) => i.kind)).size).to.be.at.least(5);
    const rare = truth.incidents.filter((incident) => {
      const n = perModel.get(incident.model_id)!;
      return (perSegment.get(`${incident.model_id}|${incident.segment}`) ?? 0) / n < 0.025;
    });
    expect(rare.length / truth.incidents.length).to.be.above(0.5);
    expect(truth.run.traffic_cells).to.be.above(0);
    expect(truth.incidents.some((incident) => incident.affected_events > 0)).to.equal(true);
  });

  it('writes and reads the ground truth as JSON lines', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'truth-'));
    try {
      const stream = generateStream({ count: 5_000, seed: 2 });
      for (const _ of stream.events) void _;
      const file = path.join(dir, 'nested', 'truth.jsonl');
      await writeGroundTruth(file, stream.truth());
      expect(await readGroundTruth(file)).to.deep.equal(JSON.parse(JSON.stringify(stream.truth())));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects a bad option by name', () => {
    expect(() => generateStream({ count: 10, models: 0 })).to.throw(RangeError, "'models'");
  });

  it('leaves the small generator (demo, fixtures, bench) as it was', () => {
    const a = [...generateInferenceEvents({ count: 100, seed: 3 }).events];
    expect(a[0]!.event_id).to.equal('evt-3-0');
    expect(a).to.have.length(100);
  });
});
