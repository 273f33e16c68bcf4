import { expect } from 'chai';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { TailCapture, type CaptureReason } from '../../../runtime/telemetry/tail-capture.js';
import { parseTraceparent } from '../../../runtime/telemetry/trace-context.js';

/**
 * A latency mix: 98.8% between 1 and 20 ms, 1.2% between 200 and 400 ms (so p99 falls in the slow
 * mode). The threshold comes from the previous window, so how many of this window's slower-than-p99
 * records it catches depends on how well that window estimated p99: 100k-record windows make the
 * estimate tight (recall ≥ 0.996 over seeds 1–7).
 */
function latencies(count: number, seed: number): number[] {
  // mulberry32: a seeded generator, so the mix is the same on every run.
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: count }, () => (next() < 0.012 ? 200 + 200 * next() : 1 + 19 * next()));
}

describe('telemetry: tail capture', () => {
  it('captures exactly the records above the running p99 once it has warmed up', () => {
    const tail = new TailCapture({ topology: 't', stepNames: ['a'], baselineRate: 0, minSamples: 1000 });
    // Warm-up: no threshold yet, nothing is slow.
    for (const [seq, ms] of latencies(100_000, 2).entries()) expect(tail.decide(seq, ms, 'delivered')).to.equal(null);
    tail.refreshThreshold();
    const threshold = tail.thresholdMs;
    expect(threshold).to.be.within(19, 400);

    const mix = latencies(100_000, 3);
    const chosen: number[] = [];
    for (const [seq, ms] of mix.entries()) if (tail.decide(seq, ms, 'delivered') === 'slow') chosen.push(seq);
    const above = mix.flatMap((ms, seq) => (ms > threshold ? [seq] : []));
    expect(chosen).to.deep.equal(above);
    // And that is the tail: ≥ 95% of the records slower than this mix's own p99, ≤ 2% of the others.
    const trueP99 = [...mix].sort((a, b) => a - b)[Math.floor(mix.length * 0.99)]!;
    const chosenSet = new Set(chosen);
    const slow = mix.flatMap((ms, seq) => (ms > trueP99 ? [seq] : []));
    const others = mix.length - slow.length;
    expect(slow.filter((seq) => chosenSet.has(seq)).length / slow.length).to.be.at.least(0.95);
    expect(chosen.filter((seq) => mix[seq]! <= trueP99).length / others).to.be.at.most(0.02);
  });

  it('captures every failed record and a head-sampled baseline', () => {
    const tail = new TailCapture({ topology: 't', stepNames: ['a'], baselineRate: 0.005 });
    const reasons: (CaptureReason | null)[] = [];
    for (let seq = 0; seq < 1000; seq++) reasons.push(tail.decide(seq, 1, seq === 7 ? 'dead-lettered' : 'delivered'));
    expect(reasons.filter((r) => r === 'failed')).to.have.length(1);
    expect(reasons.flatMap((r, seq) => (r === 'baseline' ? [seq] : []))).to.deep.equal([0, 200, 400, 600, 800]);
    expect(() => new TailCapture({ topology: 't', stepNames: [], percentile: 100 })).to.throw(RangeError, /percentile/);
  });

  it('builds a captured record\'s spans after the fact: real times, steps, sink, input trace as parent and link', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tail = new TailCapture({ topology: 'watch', stepNames: ['enrich', 'detect'], tracer: provider.getTracer('test') });
    const input = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const t0 = performance.now() - 100;
    tail.capture({ reason: 'slow', outcome: 'delivered', key: Buffer.from('model-7'), partition: 3, offset: 42, traceparent: Buffer.from(input), stamps: [t0, t0 + 1, t0 + 61], settledAtMs: t0 + 70 });
    tail.flush();
    await provider.forceFlush();
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name).sort()).to.deep.equal(['sink', 'step detect', 'step enrich', 'watch record']);
    const root = spans.find((s) => s.name === 'watch record')!;
    expect(root.spanContext().traceId).to.equal(parseTraceparent(input)!.traceId);
    expect(root.parentSpanContext?.spanId).to.equal('00f067aa0ba902b7');
    expect(root.links[0]!.context.spanId).to.equal('00f067aa0ba902b7');
    expect(root.attributes['signalpath.hotspot']).to.equal('detect');
    expect(root.attributes['signalpath.key']).to.equal('model-7');
    expect(root.attributes['messaging.destination.partition.id']).to.equal('3');
    const detect = spans.find((s) => s.name === 'step detect')!;
    expect(detect.parentSpanContext?.spanId).to.equal(root.spanContext().spanId);
    expect(detect.attributes['signalpath.step']).to.equal('detect');
    const durationMs = detect.duration[0] * 1000 + detect.duration[1] / 1e6;
    expect(durationMs).to.be.closeTo(60, 0.01);
    await provider.shutdown();
  });
});
