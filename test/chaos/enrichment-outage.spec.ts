/**
 * Chaos: the enrichment service (lab/model-registry) hangs for a while — it accepts connections and
 * never answers — then comes back on the same port. Proves enrichment degrades instead of stalling:
 * records keep flowing, flagged `enrichment: failed` (first after the lookup timeout, then at once
 * while the circuit breaker is open, so lookups are not even attempted), the breaker's state shows in
 * the run's metrics, and enrichment recovers (circuit closed, records fetched) when the service
 * returns. Nothing is lost.
 */
import { expect } from 'chai';
import { createServer, type Server, type Socket } from 'node:net';
import { runTopology } from '../../runtime/runner.js';
import { EnrichCounters, type CircuitState } from '../../operators/enrich.js';
import { startModelRegistry, type ModelRegistry } from '../../lab/model-registry/index.js';
import { readEvents, sleep, testRunConfig } from '../support/kafka-fixtures.js';
import { sharedBroker, uniqueName } from '../support/broker.js';
import { figures, pacedFeed, seconds, sized, tally, waitUntil } from './support/chaos.js';
import { enrichingTopology } from './support/enriching-topology.js';

/** A service that hangs: accepts every connection on `port` and never answers. */
async function hangingService(port: number): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('chaos: enrichment service down for a period', function () {
  const records = sized(6_000, 20_000);
  const ratePerSecond = sized(400, 500);
  const outageMs = sized(4_000, 15_000);
  const timeoutMs = 1_000;
  const retries = 1;
  this.timeout(sized(300_000, 900_000));
  let registry: ModelRegistry | null = null;

  after(async () => {
    await registry?.stop();
  });

  it('flags records instead of stalling, opens the circuit (visible in metrics), and recovers when the service returns', async () => {
    const { brokers } = await sharedBroker();
    const input = uniqueName('chaos-enrich-in');
    const output = uniqueName('chaos-enrich-out');
    const group = uniqueName('chaos-enrich');
    registry = await startModelRegistry({ errorRate: 0, tailProbability: 0, latencyMedianMs: 1 });
    const port = Number(new URL(registry.url).port);
    const counters = new EnrichCounters();
    const transitions: { state: CircuitState; atMs: number }[] = [];
    let answered = 0; // records enriched by an answer of the service
    const topology = enrichingTopology({
      registryUrl: registry.url,
      counters,
      timeoutMs,
      retries,
      failureThreshold: 5,
      openMs: 1_000,
      onCircuitStateChange: (state) => transitions.push({ state, atMs: Date.now() }),
      onStatus: (status) => {
        if (status === 'fetched' || status === 'not-found') answered++;
      },
    });
    const feed = await pacedFeed(brokers, input, records, ratePerSecond, 31);
    const running = await runTopology(topology, testRunConfig(brokers, { group, topics: { input, output }, untilIdleMs: undefined, commitIntervalMs: 200 }));
    const circuitGauge = async (): Promise<number> => {
      const text = await running.telemetry!.registry.metrics();
      const match = /^signalpath_enrich_circuit_state\{[^}]*step="enrich-model"[^}]*\} (\d+)/m.exec(text);
      return match === null ? -1 : Number(match[1]);
    };
    expect(await circuitGauge()).to.equal(0);

    // Watch deliveries from the outage on: the longest time nothing was delivered while input waited.
    let longestStallMs = 0;
    let watching = true;
    let outage = false;
    const watcher = (async () => {
      let last = running.stats().delivered;
      let lastMoveAt = Date.now();
      while (watching) {
        await sleep(50);
        const { delivered, consumed } = running.stats();
        if (!outage || delivered !== last || consumed >= records) {
          last = delivered;
          lastMoveAt = Date.now();
        } else longestStallMs = Math.max(longestStallMs, Date.now() - lastMoveAt);
      }
    })();

    await waitUntil('a quarter of the records are delivered', 300_000, () => running.stats().delivered >= records / 4);
    const lookupsBefore = counters.lookups;
    outage = true;
    await registry.stop();
    registry = null;
    const hanging = await hangingService(port);
    const downAt = Date.now();
    let openSeenInMetrics = false;
    while (Date.now() - downAt < outageMs) {
      if ((await circuitGauge()) === 2) openSeenInMetrics = true;
      await sleep(100);
    }
    const lookupsDuringOutage = counters.lookups - lookupsBefore;
    const rejectedDuringOutage = counters.circuitRejected;
    const flaggedDuringOutage = counters.failures;
    await hanging.close();
    registry = await startModelRegistry({ port, errorRate: 0, tailProbability: 0, latencyMedianMs: 1 });
    const backAt = Date.now();
    // Closing takes a successful trial lookup: the service answers again. (On a loaded machine a
    // lookup can still time out afterwards and reopen it for a moment; what counts is that it closes.)
    await waitUntil('the circuit closes again', 120_000, () => transitions.some((t) => t.state === 'closed' && t.atMs >= backAt));
    const recoveredMs = transitions.find((t) => t.state === 'closed' && t.atMs >= backAt)!.atMs - backAt;
    const answeredAtRecovery = answered;
    outage = false;

    await feed.done;
    await waitUntil('every record is consumed and settled', 420_000, () => {
      const stats = running.stats();
      return stats.consumed >= records && stats.unsettled === 0 && stats.delivered === stats.produced;
    });
    watching = false;
    await watcher;
    const summary = await running.stop();
    expect(summary.reason, summary.error).to.equal('stopped');

    expect(openSeenInMetrics, 'signalpath_enrich_circuit_state read 2 (open) during the outage').to.equal(true);
    expect(counters.circuitOpens).to.be.at.least(1);
    expect(answered, 'records enriched again after the circuit closed').to.be.greaterThan(answeredAtRecovery);
    expect(rejectedDuringOutage, 'lookups refused while the circuit was open').to.be.greaterThan(0);
    const result = await tally(brokers, feed.events.map((e) => e.event_id), output);
    expect(result.lost, `lost ids, e.g. ${result.lostSample.join(', ')}`).to.equal(0);
    const statuses = new Map<string, number>();
    for (const { event } of await readEvents(brokers, output)) statuses.set(event.attributes['enrichment']!, (statuses.get(event.attributes['enrichment']!) ?? 0) + 1);
    expect(statuses.get('failed') ?? 0, 'records flagged during the outage').to.be.greaterThan(0);
    // Answered lookups ('not-found' is an answer: the registry knows only some models).
    expect((statuses.get('fetched') ?? 0) + (statuses.get('not-found') ?? 0)).to.equal(answered);

    figures('enrichment outage', {
      records,
      'service hung for': seconds(backAt - downAt),
      'lookup timeout × attempts': `${timeoutMs} ms × ${retries + 1}`,
      'lookups tried while down': lookupsDuringOutage,
      'refused by the open circuit': rejectedDuringOutage,
      outputs: [...statuses].map(([status, n]) => `${status} ${n}`).join(', '),
      'flagged by the end of the outage': flaggedDuringOutage,
      'longest delivery stall while down': seconds(longestStallMs),
      'service back → circuit closed': seconds(recoveredMs),
      'circuit opened (times)': counters.circuitOpens,
      'enriched after recovery': answered - answeredAtRecovery,
      lost: result.lost,
    });
  });
});
