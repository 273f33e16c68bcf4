import { expect } from 'chai';
import fc from 'fast-check';
import type { Message } from '../../../runtime/kafka/client.js';
import { fromKafkaHeaders, keyBytes, toKafkaHeaders } from '../../../runtime/kafka/headers.js';
import { DecodeDeferred, DecodeFailure, OVERSIZE_KEPT_BYTES, RecordDecoder, RecordTooLargeError } from '../../../runtime/kafka/record-decoder.js';

const message = (value: Buffer | null): Message => ({ topic: 't', partition: 0, offset: 0, key: null, value, size: value?.length ?? 0 }) as Message;
const json = new RecordDecoder<{ n: number }>({ decode: (bytes) => JSON.parse(bytes.toString()) as { n: number }, maxRecordBytes: 2000 });

describe('kafka source: record decoding and headers', () => {
  it('decodes a value; a tombstone, an oversize value and a bad value are failures for the dead letter', () => {
    expect(json.decode(message(Buffer.from('{"n":1}')), {}, true)).to.deep.equal({ n: 1 });
    const tombstone = json.decode(message(null), {}, true);
    expect(tombstone).to.be.instanceOf(DecodeFailure);
    expect(String((tombstone as DecodeFailure).error)).to.match(/tombstone/);
    const big = message(Buffer.alloc(3000, 0x41));
    expect((json.decode(big, {}, true) as DecodeFailure).error).to.be.instanceOf(RecordTooLargeError);
    // The dead letter keeps only the first bytes of an oversize value, all of any other.
    expect(json.originValue(big)).to.have.length(OVERSIZE_KEPT_BYTES);
    expect(json.originValue(message(Buffer.from('{}')))?.toString()).to.equal('{}');
    expect(json.decode(message(Buffer.from('not json')), {}, true)).to.be.instanceOf(DecodeFailure);
  });

  it('defers a failure a fetch can cure, once: the second attempt dead-letters', () => {
    const cure = Promise.resolve();
    const decoder = new RecordDecoder<number>({
      decode: () => {
        throw new Error('unknown writer');
      },
      resolveWriter: () => cure,
    });
    const first = decoder.decode(message(Buffer.from('x')), {}, true);
    expect(first).to.be.instanceOf(DecodeDeferred);
    expect((first as DecodeDeferred).cure).to.equal(cure);
    expect(decoder.decode(message(Buffer.from('x')), {}, false)).to.be.instanceOf(DecodeFailure);
  });

  it('headers: the client form and ours round-trip; strings become bytes; keys become bytes', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((name) => name !== '__proto__'), fc.uint8Array({ maxLength: 16 })), (record) => {
        const ours = Object.fromEntries(Object.entries(record).map(([name, bytes]) => [name, Buffer.from(bytes)]));
        const client = toKafkaHeaders(ours);
        expect(client === undefined).to.equal(Object.keys(ours).length === 0);
        expect(fromKafkaHeaders(client)).to.deep.equal(ours);
      }),
    );
    expect(fromKafkaHeaders([{ a: 'text' }])).to.deep.equal({ a: Buffer.from('text') });
    expect(keyBytes('k')).to.deep.equal(Buffer.from('k'));
    expect(keyBytes(undefined)).to.equal(null);
  });
});
