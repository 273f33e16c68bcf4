import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { parseNabDataFile } from '../../lab/nab/corpus.js';
import { readNabCorpus } from '../../lab/nab/corpus.js';
import { resolveNabDataDir } from '../../lab/nab/data-dir.js';
import type { NabCorpus, NabDataFile } from '../../lab/nab/types.js';
import { nabModelId, replayNab } from '../../lab/generator/index.js';
import { InferenceEventContract, type InferenceEvent } from '../../schemas/index.js';
import { createTopicSerde } from '../../runtime/serde/index.js';

/** `rows` rows `stepMin` minutes apart; a spike of 100 on the window's rows, 0..6 elsewhere. */
function file(relativePath: string, rows: number, stepMin: number, window: readonly [number, number]): NabDataFile {
  const stamp = (row: number): string => new Date(Date.UTC(2020, 0, 1, 0, row * stepMin)).toISOString().slice(0, 19).replace('T', ' ');
  const lines = ['timestamp,value'];
  for (let row = 0; row < rows; row++) lines.push(`${stamp(row)},${row >= window[0] && row <= window[1] ? 100 : row % 7}`);
  return parseNabDataFile(relativePath, `${lines.join('\n')}\n`, [[`${stamp(window[0])}.000000`, `${stamp(window[1])}.000000`]]);
}

const corpus: NabCorpus = { dataDir: 'hand-built', files: [file('realTest/a.csv', 300, 5, [100, 119]), file('artificialTest/b_c.csv', 120, 60, [90, 99])] };

function digest(events: Iterable<InferenceEvent>): string {
  const serde = createTopicSerde({ contract: InferenceEventContract, topic: 'digest' });
  const hash = createHash('sha256');
  for (const event of events) hash.update(serde.encode(event).value);
  return hash.digest('hex');
}

describe('lab: generate --nab (NAB replayed inside the background)', () => {
  it('replays every NAB row as a keyed series over the background span, windows as incidents, deterministically', () => {
    const stream = replayNab(corpus, { count: 5_000, seed: 3 });
    const events = [...stream.events];
    const truth = stream.truth();
    const nab = events.filter((e) => e.segment === 'nab');
    expect(events.length).to.equal(5_000 + 420);
    expect(nab.length).to.equal(420);
    expect(new Set(nab.map((e) => e.model_id))).to.deep.equal(new Set(['nab-realtest-a', 'nab-artificialtest-b-c']));
    // The value is in features[0], rows in order, each series within the background's event-time span.
    const a = nab.filter((e) => e.model_id === 'nab-realtest-a');
    expect(a.map((e) => e.features[0])).to.deep.equal(Array.from(corpus.files[0]!.values, (v) => Math.fround(v)));
    expect(a.every((e, i) => i === 0 || e.ts >= a[i - 1]!.ts)).to.equal(true);
    expect(a[0]!.ts).to.equal(stream.startMs);
    expect(a.at(-1)!.ts).to.be.below(stream.startMs + stream.spanMs);
    // The ground truth: one nab-window per labelled window, covering exactly its rows; no injected incidents.
    expect(truth.incidents.map((i) => [i.kind, i.model_id, i.segment, i.field, i.affected_events])).to.deep.equal([
      ['nab-window', 'nab-realtest-a', 'nab', 'features[0]', 20],
      ['nab-window', 'nab-artificialtest-b-c', 'nab', 'features[0]', 10],
    ]);
    const window = truth.incidents[0]!;
    expect(a.filter((e) => e.ts >= window.start && e.ts < window.end).every((e) => e.features[0] === 100)).to.equal(true);
    expect(truth.run.events).to.equal(events.length);
    // Same corpus and seed, same bytes; another seed, other bytes.
    expect(digest(replayNab(corpus, { count: 5_000, seed: 3 }).events)).to.equal(digest(events));
    expect(digest(replayNab(corpus, { count: 5_000, seed: 4 }).events)).not.to.equal(digest(events));
  });

  it('checks its options', () => {
    expect(() => replayNab(corpus, { count: 10, nabField: 'features[9]' })).to.throw(RangeError, /nabField/);
    expect(() => replayNab({ dataDir: 'x', files: [] }, { count: 10 })).to.throw(RangeError, /no data files/);
  });

  it('on the real corpus (read in place): one series per file, one incident per labelled window', async function () {
    this.timeout(60_000);
    let dataDir: string;
    try {
      dataDir = resolveNabDataDir();
    } catch {
      this.skip();
    }
    if (!existsSync(dataDir!)) this.skip();
    const real = await readNabCorpus(dataDir!);
    const stream = replayNab(real, { count: 20_000, seed: 1 });
    let nabRows = 0;
    for (const event of stream.events) if (event.segment === 'nab') nabRows++;
    const truth = stream.truth();
    expect(nabRows).to.equal(real.files.reduce((n, f) => n + f.values.length, 0));
    expect(truth.incidents.length).to.equal(real.files.reduce((n, f) => n + f.windows.length, 0));
    expect(new Set(truth.incidents.map((i) => i.model_id)).size).to.be.at.most(real.files.length);
    expect(truth.incidents.every((i) => i.affected_events > 0 && i.model_id === nabModelId(real.files.find((f) => nabModelId(f) === i.model_id)!))).to.equal(true);
  });
});
