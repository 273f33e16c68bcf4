/**
 * Snapshot chunks and manifests (runtime/state/snapshot-chunks.ts), and StepStates writing them: any
 * snapshot reassembles from its chunks; a mix of two snapshots' chunks is never accepted; writes
 * alternate slots so a write cut short leaves the last manifest's snapshot whole; chunks past a new
 * count are tombstoned; an unchanged snapshot writes only its manifest; state that cannot fit stops
 * with the step, the size and the setting; the previous release's topology-named changelog restores.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { assembleSnapshot, chunkKey, chunkSnapshot, decodeChunk, manifestKey, parseChunkKey, sha256, type SnapshotManifest } from '../../runtime/state/snapshot-chunks.js';
import { changelogKey, entryOf } from '../../runtime/state/changelog.js';
import { StateTooLargeError, StepStates } from '../../runtime/state/step-states.js';
import { MemoryChangelog } from '../support/memory-changelog.js';

function manifestFor(text: Buffer, snapshotId: string, chunks: number): SnapshotManifest {
  return { format: 2, kind: 'manifest', step: 's', partition: 0, committedOffset: 1, writer: 'w', writtenAtMs: 1, slot: 'a', snapshotId, chunks, bytes: text.length, sha256: sha256(text) };
}

describe('snapshot chunks', () => {
  it('property: reassemble(chunk(x)) = x for any bytes and chunk size', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5_000 }), fc.integer({ min: 1, max: 700 }), (bytes, payloadBytes) => {
        const text = Buffer.from(bytes);
        const chunks = chunkSnapshot(text, 'id-1', payloadBytes);
        expect(chunks.length).to.equal(Math.max(1, Math.ceil(text.length / payloadBytes)));
        for (const chunk of chunks) expect((decodeChunk(chunk) as { payload: Buffer }).payload.length).to.be.at.most(payloadBytes);
        const assembled = assembleSnapshot(manifestFor(text, 'id-1', chunks.length), (i) => chunks[i]);
        expect(Buffer.isBuffer(assembled) && assembled.equals(text)).to.equal(true);
      }),
      { numRuns: 300 },
    );
  });

  it('property: a mix of two snapshots\' chunks is never accepted, whichever manifest names them', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 2_000 }),
        fc.uint8Array({ minLength: 1, maxLength: 2_000 }),
        fc.integer({ min: 1, max: 300 }),
        fc.infiniteStream(fc.boolean()),
        (a, b, payloadBytes, picks) => {
          const chunksA = chunkSnapshot(Buffer.from(a), 'A', payloadBytes);
          const chunksB = chunkSnapshot(Buffer.from(b), 'B', payloadBytes);
          const count = Math.max(chunksA.length, chunksB.length);
          const it = picks[Symbol.iterator]();
          // Under each chunk key, the chunk of snapshot A or of B (or none, past that snapshot's count).
          const from = Array.from({ length: count }, () => (it.next().value ? 'A' : 'B'));
          const at = (i: number): Buffer | undefined => (from[i] === 'A' ? chunksA : chunksB)[i];
          for (const [text, id, chunks] of [[Buffer.from(a), 'A', chunksA.length], [Buffer.from(b), 'B', chunksB.length]] as const) {
            const result = assembleSnapshot(manifestFor(text, id, chunks), at);
            const whole = from.slice(0, chunks).every((source) => source === id);
            if (whole) expect(Buffer.isBuffer(result) && result.equals(text)).to.equal(true);
            else expect(result).to.be.a('string');
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses a chunk set whose bytes do not match the manifest checksum, or with a chunk missing', () => {
    const text = Buffer.from('{"operator":"x","version":1,"data":"abcdefghij"}');
    const chunks = chunkSnapshot(text, 'id', 8);
    expect(assembleSnapshot({ ...manifestFor(text, 'id', chunks.length), sha256: sha256(Buffer.from('other')) }, (i) => chunks[i])).to.match(/checksum/);
    expect(assembleSnapshot(manifestFor(text, 'id', chunks.length), (i) => (i === 2 ? undefined : chunks[i]))).to.match(/chunk 2 of \d+ \(slot a\) is missing/);
  });

  it('parses chunk keys, and tells them from manifest keys', () => {
    expect(parseChunkKey(chunkKey('detect', 3, 'b', 17))).to.deep.equal({ step: 'detect', partition: 3, slot: 'b', index: 17 });
    expect(parseChunkKey(manifestKey('detect', 3))).to.equal(null);
  });
});

function statesOn(changelog: MemoryChangelog, held: { value: unknown }, options: { messageMaxBytes?: number; legacyNamespace?: string; logs?: string[] } = {}): StepStates {
  const states = new StepStates({
    namespace: 'group-1',
    ...(options.legacyNamespace === undefined ? {} : { legacyNamespace: options.legacyNamespace }),
    group: 'group-1',
    instance: 'a',
    brokers: '127.0.0.1:9',
    clientConfig: { 'message.max.bytes': String(options.messageMaxBytes ?? 8_000) },
    log: (line) => options.logs?.push(line),
    write: changelog.write,
    read: changelog.read,
  });
  states.handleFor('s').attach('op', () => ({ operator: 'op', version: 1, value: held.value }), (snapshot) => (held.value = snapshot['value']));
  return states;
}

describe('StepStates: chunked snapshots', () => {
  const big = (n: number, tag: string): string[] => Array.from({ length: n }, (_, i) => `${tag}-${i}`);

  it('writes chunks under a quarter of message.max.bytes, alternating slots, and a restore reads the latest', async () => {
    const changelog = new MemoryChangelog();
    const held = { value: big(2_000, 'first') as unknown };
    const writer = statesOn(changelog, held);
    writer.snapshot(new Map([[0, 10]]));
    expect(changelog.log.every((r) => r.value === null || r.value.length <= 2_000)).to.equal(true);
    const first = entryOf(changelog.records, 's', 0) as { manifest: SnapshotManifest };
    expect(first.manifest.slot).to.equal('a');
    expect(first.manifest.chunks).to.be.greaterThan(10);
    held.value = big(100, 'second');
    writer.snapshot(new Map([[0, 20]]));
    const second = entryOf(changelog.records, 's', 0) as { manifest: SnapshotManifest; committedOffset: number };
    expect(second.manifest.slot).to.equal('b');
    expect(second.committedOffset).to.equal(20);
    // Slot a still holds the first snapshot whole until it is written again.
    held.value = big(10, 'third');
    writer.snapshot(new Map([[0, 30]]));
    const third = entryOf(changelog.records, 's', 0) as { manifest: SnapshotManifest };
    expect(third.manifest.slot).to.equal('a');
    // Slot a had many more chunks than the third snapshot needs: the rest were tombstoned.
    const slotA = [...changelog.records.keys()].filter((key) => key.startsWith('s:0:a:'));
    expect(slotA.length).to.equal(third.manifest.chunks);

    const restoredHeld = { value: undefined as unknown };
    const reader = statesOn(changelog, restoredHeld);
    const [result] = await reader.restore([0]);
    expect(result!.action).to.equal('restored');
    expect(restoredHeld.value).to.deep.equal(big(10, 'third'));
  });

  it('a write cut short (its manifest never written) leaves the previous snapshot restorable', async () => {
    const changelog = new MemoryChangelog();
    const held = { value: big(1_000, 'good') as unknown };
    let budget = Infinity; // records that still reach the changelog: then the process "dies"
    const states = new StepStates({
      namespace: 'g',
      brokers: '127.0.0.1:9',
      clientConfig: { 'message.max.bytes': '8000' },
      log: () => {},
      write: (topic, key, value) => (budget-- > 0 ? changelog.write(topic, key, value) : undefined),
      read: changelog.read,
    });
    states.handleFor('s').attach('op', () => ({ operator: 'op', version: 1, value: held.value }), () => {});
    states.snapshot(new Map([[0, 10]]));
    const goodChunks = (entryOf(changelog.records, 's', 0) as { manifest: SnapshotManifest }).manifest.chunks;
    held.value = big(3_000, 'cut');
    budget = goodChunks + 3; // past slot a's chunk count: only slot b is being written
    states.snapshot(new Map([[0, 20]]));
    expect([...changelog.records.keys()].some((key) => key.startsWith('s:0:b:'))).to.equal(true);
    const restored = { value: undefined as unknown };
    await statesOn(changelog, restored).restore([0]);
    expect(restored.value).to.deep.equal(big(1_000, 'good'));
  });

  it('an unchanged snapshot writes only its manifest, with the new committed offset', () => {
    const changelog = new MemoryChangelog();
    const held = { value: big(500, 'same') as unknown };
    const states = statesOn(changelog, held);
    states.snapshot(new Map([[0, 10], [1, 10]]));
    const chunksFirst = states.stats.chunksWritten;
    changelog.log.length = 0;
    states.snapshot(new Map([[0, 11], [1, 10]]));
    expect(changelog.log.map((r) => r.key)).to.deep.equal([changelogKey('s', 0)]);
    expect(states.stats.chunksWritten).to.equal(chunksFirst);
    expect(states.stats.snapshotsUnchanged).to.equal(1);
    expect((entryOf(changelog.records, 's', 0) as { committedOffset: number }).committedOffset).to.equal(11);
    // After an aborted transaction its writes are forgotten: the chunks are written again.
    states.forgetWrites();
    changelog.log.length = 0;
    states.snapshot(new Map([[0, 12]]));
    expect(changelog.log.filter((r) => parseChunkKey(r.key) !== null).length).to.be.greaterThan(0);
  });

  it('state that cannot fit stops with the step, the size and the setting to change', () => {
    const states = statesOn(new MemoryChangelog(), { value: big(100, 'x') }, { messageMaxBytes: 4_000 });
    expect(() => states.snapshot(new Map([[0, 1]])))
      .to.throw(StateTooLargeError)
      .with.property('message')
      .match(/state of step s \(a snapshot of \d+ bytes\).*message\.max\.bytes \(SIGNALPATH_KAFKA_MESSAGE_MAX_BYTES, now 4000\).*raise it to at least 6144/);
    const refusing = new StepStates({
      namespace: 'g',
      brokers: '127.0.0.1:9',
      log: () => {},
      write: () => {
        throw new Error('Broker: Message size too large');
      },
    });
    refusing.handleFor('s').attach('op', () => ({ operator: 'op', version: 1 }), () => {});
    expect(() => refusing.snapshot(new Map([[0, 1]]))).to.throw(StateTooLargeError, /state of step s .*refused by the Kafka client: Broker: Message size too large; check message\.max\.bytes/);
  });

  it('migration: restores from the previous release\'s topology-named changelog when the new one has nothing, and says so', async () => {
    const legacy = new MemoryChangelog();
    legacy.putEntry(changelogKey('s', 0), { format: 1, step: 's', partition: 0, committedOffset: 7, writer: 'old:1#1', writtenAtMs: 1, snapshot: { operator: 'op', version: 1, value: 'from-before' } });
    const current = new MemoryChangelog();
    const logs: string[] = [];
    const held = { value: undefined as unknown };
    const states = new StepStates({
      namespace: 'group-1',
      legacyNamespace: 'shop',
      brokers: '127.0.0.1:9',
      log: (line) => logs.push(line),
      write: current.write,
      read: (topic, keep) => (topic === 'shop.s.changelog' ? legacy : current).read(topic, keep),
    });
    states.handleFor('s').attach('op', () => ({ operator: 'op', version: 1, value: held.value }), (snapshot) => (held.value = snapshot['value']));
    const [result] = await states.restore([0]);
    expect(result!.action).to.equal('restored');
    expect(result!.topic).to.equal('shop.s.changelog');
    expect(held.value).to.equal('from-before');
    expect(logs.join('\n')).to.match(/migrating from the previous release's shop\.s\.changelog .*new snapshots go to group-1\.s\.changelog/);
    // New snapshots go to the new name.
    states.snapshot(new Map([[0, 8]]));
    expect(entryOf(current.records, 's', 0)).to.have.property('committedOffset', 8);
  });
});
