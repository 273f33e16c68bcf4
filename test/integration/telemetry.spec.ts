/**
 * Telemetry against the real broker: a topology that drops, fails and routes records runs with the
 * metrics port set; `/metrics` counts exactly what flowed, `/healthz` and `/readyz` answer, and every
 * output carries a traceparent in its input's trace (or a new trace when the input had none). And the
 * state metrics of a run: restore outcomes, and a windowed dedup's records settled as already emitted
 * after an instance takes over the state of the one before it.
 */
import { expect } from 'chai';
import { runTopology, type RunningTopology } from '../../runtime/runner.js';
import { writeRawRecords, writeTopic } from '../../runtime/kafka/topic-writer.js';
import type { DedupCounters } from '../../operators/windowed-dedup.js';
import { createStatefulDedup } from '../fixtures/topologies/stateful-dedup.js';
import { defineTopology, filterRecords, mapRecords, toOutput } from '../../runtime/topology.js';
import { readAll } from '../../runtime/kafka/topic-reader.js';
import { createTopicSerde } from '../../runtime/serde/index.js';
import { parseTraceparent } from '../../runtime/telemetry/trace-context.js';
import { InferenceEventContract, type InferenceEvent } from '../../schemas/index.js';
import { generateInferenceEvents } from '../../lab/generator/simple-stream.js';
import { sharedBroker, uniqueName } from '../support/broker.js';
import { feedEvents, freePort, headersOf, sleep, testRunConfig } from '../support/kafka-fixtures.js';

const keep = (e: InferenceEvent): boolean => e.latency_ms >= 50;
const fails = (e: InferenceEvent): boolean => e.segment === 'research';

const observed = defineTopology<InferenceEvent>({
  name: 'observed',
  description: 'Test topology: drops fast events, fails on segment "research", routes the rest.',
  input: { topic: 'observed-in', contract: InferenceEventContract, eventTime: (e) => e.ts },
  outputs: { output: { topic: 'observed-out', contract: InferenceEventContract } },
  steps: (input) =>
    input
      .step('keep-slow', filterRecords(keep))
      .step(
        'check-segment',
        mapRecords((e) => {
          if (fails(e)) throw new Error('segment research is not served');
          return e;
        }),
      )
      .step('route', toOutput('output')),
});

/** `name{labels} value` → value, from Prometheus text. */
function sample(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  if (line === undefined) throw new Error(`no series ${name}{${labels}} in /metrics`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('integration: telemetry', function () {
  this.timeout(180_000);
  let brokers: string;

  before(async () => {
    brokers = (await sharedBroker()).brokers;
  });

  it('serves /metrics, /healthz, /readyz that match what flowed, and carries traceparent to the outputs', async () => {
    const input = uniqueName('observed-in');
    const output = uniqueName('observed-out');
    const dlq = uniqueName('observed-dlq');
    const group = uniqueName('observed');
    const traced = await feedEvents(brokers, input, 3_000, 11);
    // A few records without trace context, as a producer outside the project would write them.
    const untraced = [...generateInferenceEvents({ count: 50, seed: 12 }).events].map((e) => ({ ...e, event_id: `untraced-${e.event_id}`, latency_ms: 500, segment: 'x' }));
    const serde = createTopicSerde({ contract: InferenceEventContract, topic: input });
    await serde.prepare();
    await writeRawRecords(
      brokers,
      input,
      untraced.map((e) => {
        const encoded = serde.encode(e);
        return { key: e.model_id, value: encoded.value, headers: { ...encoded.headers } };
      }),
    );
    const all = [...traced, ...untraced];
    const total = all.length;
    const kept = all.filter(keep);
    const failed = kept.filter(fails).length;
    const delivered = kept.length - failed;
    expect(failed, 'some records fail').to.be.greaterThan(0);
    expect(total - kept.length, 'some records are dropped').to.be.greaterThan(0);

    const port = await freePort();
    const running = await runTopology(observed, testRunConfig(brokers, { group, topics: { input, output, dlq }, untilIdleMs: 120_000, metricsPort: port }));
    expect(running.metricsPort).to.equal(port);
    const base = `http://127.0.0.1:${port}`;
    try {
      expect((await fetch(`${base}/healthz`)).status).to.equal(200);
      // Wait until everything consumed has settled.
      for (let i = 0; i < 300; i++) {
        const stats = running.stats();
        if (stats.consumed === total && stats.unsettled === 0) break;
        await sleep(100);
      }
      expect(running.stats().consumed).to.equal(total);

      const response = await fetch(`${base}/metrics`);
      expect(response.status).to.equal(200);
      expect(response.headers.get('content-type')).to.match(/^text\/plain/);
      const text = await response.text();
      const labels = (step: string): string => `topology="observed",step="${step}"`;
      expect(sample(text, 'signalpath_step_received_total', labels('keep-slow'))).to.equal(total);
      expect(sample(text, 'signalpath_step_emitted_total', labels('keep-slow'))).to.equal(kept.length);
      expect(sample(text, 'signalpath_step_dropped_total', labels('keep-slow'))).to.equal(total - kept.length);
      expect(sample(text, 'signalpath_step_received_total', labels('check-segment'))).to.equal(kept.length);
      expect(sample(text, 'signalpath_step_failed_total', labels('check-segment'))).to.equal(failed);
      expect(sample(text, 'signalpath_step_emitted_total', labels('route'))).to.equal(delivered);
      expect(sample(text, 'signalpath_step_latency_seconds_count', labels('route'))).to.equal(delivered);
      expect(sample(text, 'signalpath_records_settled_total', 'topology="observed",outcome="delivered"')).to.equal(delivered);
      expect(sample(text, 'signalpath_records_settled_total', 'topology="observed",outcome="dropped"')).to.equal(total - kept.length);
      expect(sample(text, 'signalpath_records_settled_total', 'topology="observed",outcome="dead-lettered"')).to.equal(failed);
      expect(sample(text, 'signalpath_record_latency_seconds_count', 'topology="observed"')).to.equal(total);
      expect(sample(text, 'signalpath_source_unsettled', 'topology="observed"')).to.equal(0);

      // Caught up (all consumed, lag 0 on every partition): ready.
      let ready: Response | null = null;
      for (let i = 0; i < 50; i++) {
        ready = await fetch(`${base}/readyz`);
        if (ready.status === 200) break;
        await sleep(100);
      }
      const readyBody = (await ready!.json()) as { ok: boolean; assignedPartitions: number; lag: Record<string, number | null> };
      expect(ready!.status, JSON.stringify(readyBody)).to.equal(200);
      expect(readyBody.assignedPartitions).to.equal(4);
      expect((await fetch(`${base}/nothing`)).status).to.equal(404);
    } finally {
      await running.stop();
    }
    // Stopped: the endpoints are gone.
    await fetch(`${base}/healthz`).then(
      () => expect.fail('the endpoints should close on shutdown'),
      () => {},
    );

    // Trace context: an output in its input's trace, or a new valid trace for untraced inputs.
    const inputTrace = new Map<string, string>();
    for (const message of await readAll(brokers, input)) {
      const event = serde.decode(message.value!, headersOf(message));
      const context = parseTraceparent(headersOf(message).traceparent);
      if (context) inputTrace.set(event.event_id, context.traceId);
    }
    expect(inputTrace.size).to.equal(traced.length);
    const outputs = await readAll(brokers, output);
    expect(outputs).to.have.length(delivered);
    let linked = 0;
    let fresh = 0;
    for (const message of outputs) {
      const headers = headersOf(message);
      const event = serde.decode(message.value!, headers);
      const context = parseTraceparent(headers.traceparent);
      expect(context, `output ${event.event_id} has a valid traceparent`).to.not.equal(null);
      const expected = inputTrace.get(event.event_id);
      if (expected !== undefined) {
        expect(context!.traceId).to.equal(expected);
        linked++;
      } else {
        expect(event.event_id.startsWith('untraced-')).to.equal(true);
        expect([...inputTrace.values()]).to.not.include(context!.traceId);
        fresh++;
      }
    }
    expect(fresh).to.equal(untraced.length);
    expect(linked).to.equal(delivered - untraced.length);
  });

  it('exports the state handover: each restore outcome, and the records a windowed dedup settles as already emitted by the previous owner', async () => {
    const name = uniqueName('dedup-metrics');
    const input = uniqueName('dedup-metrics-in');
    const topics = { input, mentions: uniqueName('dedup-metrics-out'), dlq: uniqueName('dedup-metrics-dlq') };
    const group = uniqueName('dedup-metrics');
    // 400 events within 0.4 s: one 60 s window per cluster, still open when an instance drains.
    const events = await feedEvents(brokers, input, 400, 21);
    const scrape = async (running: RunningTopology): Promise<string> => (await fetch(`http://127.0.0.1:${running.metricsPort}/metrics`)).text();
    const runInstance = async (consumed: number): Promise<{ running: RunningTopology; text: string }> => {
      const running = await runTopology(createStatefulDedup(name, 60_000), testRunConfig(brokers, { group, topics, untilIdleMs: undefined, metricsPort: await freePort() }));
      for (let i = 0; i < 600 && running.stats().consumed < consumed; i++) await sleep(100);
      expect(running.stats().consumed).to.equal(consumed);
      return { running, text: await scrape(running) };
    };
    const labels = (extra: string): string => `topology="${name}",step="dedup"${extra}`;

    // The first instance finds no state, and drains its open windows as mentions when it stops.
    const first = await runInstance(events.length);
    expect(sample(first.text, 'signalpath_state_restores_total', labels(',action="none"'))).to.be.at.least(1);
    expect(sample(first.text, 'signalpath_state_restores_total', labels(',action="restored"'))).to.equal(0);
    expect(sample(first.text, 'signalpath_dedup_already_emitted_total', labels(''))).to.equal(0);
    expect((await first.running.stop()).reason).to.equal('stopped');

    // The same events again (a producer retrying), read by the next instance: their windows were emitted.
    await writeTopic(events, { brokers, topic: input, contract: InferenceEventContract });
    const second = await runInstance(events.length);
    const summary = await second.running.stop();
    const alreadyEmitted = (summary.topologyReport as { dedup: DedupCounters }).dedup.alreadyEmitted;
    expect(sample(second.text, 'signalpath_state_restores_total', labels(',action="restored"'))).to.be.at.least(1);
    expect(alreadyEmitted, 'records settled as already emitted').to.be.greaterThan(0);
    expect(sample(second.text, 'signalpath_dedup_already_emitted_total', labels(''))).to.equal(alreadyEmitted);
    console.log(`      state metrics: the second instance restored and settled ${alreadyEmitted} of ${events.length} repeated records as already emitted`);
  });
});
