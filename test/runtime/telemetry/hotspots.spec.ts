import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createSettlement } from '../../../core/settlement.js';
import { formatHotspots, HotspotSummary, type CapturedSummary } from '../../../runtime/telemetry/hotspots.js';
import type { TracedOrigin } from '../../../runtime/telemetry/stage-clock.js';
import { TailCapture } from '../../../runtime/telemetry/tail-capture.js';
import { TopologyTelemetry } from '../../../runtime/telemetry/topology-telemetry.js';
import { readHotspots } from '../../../cli/hotspots-command.js';
import { ConfigError } from '../../../runtime/config.js';

/** A captured record: slow ones mostly wait in detect, on lane 2, after a cache miss. */
function captured(i: number, reason: 'slow' | 'baseline'): CapturedSummary {
  const slow = reason === 'slow';
  const inDetect = slow ? i % 5 !== 0 : i % 10 === 0; // 80% of slow, 10% of baseline
  const detectMs = inDetect ? (slow ? 300 : 3) : 1;
  const sinkMs = inDetect ? 2 : slow ? 250 : 4;
  return {
    atMs: 1_700_000_000_000 + i,
    topology: 'watch',
    reason,
    outcome: 'delivered',
    key: slow && i % 2 === 0 ? 'model-hot' : `model-${i % 7}`,
    partition: i % 4,
    offset: i,
    traceId: null,
    e2eMs: detectMs + sinkMs + 1,
    thresholdMs: 50,
    hotspot: inDetect ? 'detect' : 'sink',
    stagesMs: { enrich: 1, detect: detectMs, sink: sinkMs },
    notes: { lane: slow ? (i % 10 < 7 ? 2 : i % 4) : i % 4, cache: slow ? (i % 10 < 9 ? 'miss' : 'hit') : i % 20 === 0 ? 'miss' : 'hit', enrich_retries: slow && i % 3 === 0 ? 1 : 0 },
  };
}

describe('telemetry: hotspots (what the tail is made of)', () => {
  it('puts step notes (lane, cache, retries) on the record span and hands on its stage times', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const summaries: CapturedSummary[] = [];
    const tail = new TailCapture({ topology: 'watch', stepNames: ['enrich', 'detect'], tracer: provider.getTracer('test'), onCaptured: (s) => summaries.push(s) });
    const t0 = performance.now() - 100;
    tail.capture({ reason: 'slow', outcome: 'delivered', key: Buffer.from('model-7'), partition: 1, offset: 9, traceparent: null, stamps: [t0, t0 + 40, t0 + 45], settledAtMs: t0 + 50, notes: { lane: 2, cache: 'miss', enrich_retries: 1 } });
    tail.flush();
    await provider.forceFlush();
    const root = exporter.getFinishedSpans().find((s) => s.name === 'watch record')!;
    expect(root.attributes).to.include({ 'signalpath.lane': 2, 'signalpath.cache': 'miss', 'signalpath.enrich_retries': 1, 'signalpath.hotspot': 'enrich' });
    expect(summaries).to.have.length(1);
    const summary = summaries[0]!;
    expect(summary).to.include({ hotspot: 'enrich', key: 'model-7', partition: 1, reason: 'slow', traceId: root.spanContext().traceId });
    expect(summary.stagesMs['enrich']).to.be.closeTo(40, 1e-9);
    expect(summary.stagesMs['detect']).to.be.closeTo(5, 1e-9);
    expect(summary.stagesMs['sink']).to.be.closeTo(5, 1e-9);
    expect(summary.notes).to.deep.equal({ lane: 2, cache: 'miss', enrich_retries: 1 });
    await provider.shutdown();
  });

  it('names the step, key, lane and cache outcome the slow records share, against the baseline', () => {
    const summary = new HotspotSummary();
    for (let i = 0; i < 200; i++) summary.add(captured(i, 'slow'));
    for (let i = 0; i < 400; i++) summary.add(captured(i, 'baseline'));
    summary.add({ ...captured(0, 'slow'), reason: 'failed' });
    const report = summary.report(3);
    expect(report).to.include({ slow: 200, baseline: 400, failed: 1 });
    expect(report.hotspots[0]).to.include({ value: 'detect', slowShare: 0.8, baselineShare: 0.1 });
    expect(report.timeShareByStage[0]!.stage).to.equal('detect');
    expect(report.keys[0]).to.include({ value: 'model-hot', slowShare: 0.5, baselineShare: 0 });
    expect(report.notes['lane']![0]!.value).to.equal('2');
    expect(report.notes['lane']![0]!.slowShare).to.be.at.least(0.7);
    expect(report.notes['cache']![0]).to.include({ value: 'miss', slowShare: 0.9, baselineShare: 0.05 });
    expect(report.notes['enrich_retries']!.find((r) => r.value === '1')!.baselineShare).to.equal(0);
    const text = formatHotspots(report);
    expect(text).to.match(/the tail is mostly detect: 80% of slow records/);
    expect(text).to.match(/model-hot\s+50\.0%\s+0\.0%/);
  });

  it('a hotspots file that cannot be opened fails the start, naming the setting', () => {
    const missingDir = path.join(mkdtempSync(path.join(tmpdir(), 'signalpath-hotspots-')), 'no-such-dir', 'h.jsonl');
    expect(() => new TopologyTelemetry({ topology: 'watch', stepNames: ['a'], maxUnsettled: 10, hotspotsFile: missingDir })).to.throw(ConfigError, /--hotspots-file \/ SIGNALPATH_HOTSPOTS_FILE .*cannot open it for appending/);
  });

  it('a run with --hotspots-file writes each captured record, noted by its steps; signalpath hotspots reads it', async function () {
    this.timeout(60_000);
    const dir = mkdtempSync(path.join(tmpdir(), 'signalpath-hotspots-'));
    const file = path.join(dir, 'hotspots.jsonl');
    const telemetry = new TopologyTelemetry({ topology: 'watch', stepNames: ['enrich', 'detect'], maxUnsettled: 100, baselineRate: 0, hotspotsFile: file });
    const seq = telemetry.consumed(performance.now() - 20);
    const origin: TracedOrigin = { topic: 'in', partition: 3, offset: 7, key: Buffer.from('model-1'), value: null, telemetrySeq: seq, traceparent: null };
    const envelope = { key: 'model-1', value: 1, eventTimeMs: 0, watermarkMs: 0, headers: {}, origin, settlement: createSettlement(() => {}, 'x') };
    telemetry.annotate(envelope.origin as TracedOrigin, { lane: 1 });
    telemetry.annotate(envelope.origin as TracedOrigin, { cache: 'miss' });
    // A dead letter is always captured.
    telemetry.settled(origin, 'dead-lettered');
    // A record without a stage-clock slot is ignored, not mis-noted.
    telemetry.annotate({ ...origin, telemetrySeq: -1 }, { lane: 9 });
    await telemetry.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as CapturedSummary);
    expect(lines).to.have.length(1);
    expect(lines[0]).to.deep.include({ reason: 'failed', key: 'model-1', partition: 3, offset: 7, notes: { lane: 1, cache: 'miss' } });
    expect(telemetry.status().hotspots.failed).to.equal(1);

    // The command: slow and baseline lines (and a line that is not one) from a file.
    const many = [...Array.from({ length: 50 }, (_, i) => captured(i, 'slow')), ...Array.from({ length: 50 }, (_, i) => captured(i, 'baseline'))];
    writeFileSync(file, `${many.map((l) => JSON.stringify(l)).join('\n')}\nnot json\n`);
    const { summary, skipped } = await readHotspots(file);
    expect(skipped).to.equal(1);
    expect(summary.report().slow).to.equal(50);
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['bin/signalpath.js', 'hotspots', file, '--top', '2'], { env: process.env });
    expect(stdout).to.match(/50 slow records/);
    expect(stdout).to.match(/the tail is mostly detect/);
    expect(stdout).to.match(/^cache\s+slow\s+baseline$/m);
    expect(stderr).to.match(/1 of 101 lines/);
  });
});
