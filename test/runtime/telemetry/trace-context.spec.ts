import { expect } from 'chai';
import fc from 'fast-check';
import { formatTraceparent, isTraceparent, parseTraceparent, TraceIdGenerator } from '../../../runtime/telemetry/trace-context.js';

const hex = (length: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${length}}$`)).filter((s) => /[1-9a-f]/.test(s));

describe('telemetry: traceparent', () => {
  const sample = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

  it('parses the W3C example, from a string or header bytes', () => {
    const expected = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', flags: 1 };
    expect(parseTraceparent(sample)).to.deep.equal(expected);
    expect(parseTraceparent(Buffer.from(sample))).to.deep.equal(expected);
  });

  it('round-trips format → parse for any valid ids and flags', () => {
    fc.assert(
      fc.property(hex(32), hex(16), fc.integer({ min: 0, max: 255 }), (traceId, spanId, flags) => {
        const text = formatTraceparent({ traceId, spanId, flags });
        expect(parseTraceparent(text)).to.deep.equal({ traceId, spanId, flags });
        expect(formatTraceparent(parseTraceparent(Buffer.from(text))!)).to.equal(text);
      }),
    );
  });

  it('rejects malformed headers', () => {
    const bad = [
      '',
      sample.slice(0, 54),
      `${sample}0`,
      sample.replace(/^00/, '01'), // unknown version: we only read 00
      sample.replace(/^00/, 'ff'),
      sample.toUpperCase(),
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01', // zero trace id
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', // zero span id
      '00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01', // not hex
      '00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x',
    ];
    for (const header of bad) {
      expect(parseTraceparent(header), header).to.equal(null);
      expect(isTraceparent(Buffer.from(header)), header).to.equal(false);
    }
    expect(parseTraceparent(undefined)).to.equal(null);
    expect(() => formatTraceparent({ traceId: 'abc', spanId: '00f067aa0ba902b7', flags: 1 })).to.throw(TypeError, /trace id/);
  });

  it('generates valid, distinct traceparents without a random draw per record', () => {
    const ids = new TraceIdGenerator();
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const header = ids.nextTraceparent(i % 2 === 0);
      const parsed = parseTraceparent(header);
      expect(parsed).to.not.equal(null);
      expect(parsed!.flags).to.equal(i % 2 === 0 ? 1 : 0);
      seen.add(parsed!.traceId);
    }
    expect(seen.size).to.equal(10_000);
  });
});
