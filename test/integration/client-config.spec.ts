/**
 * The run's client settings (SIGNALPATH_KAFKA_*: SASL/TLS and any other librdkafka setting) reach
 * every Kafka client the project creates: the runner's (topics, labels topic and its follower,
 * changelogs, source, sink), and those of `produce`, `tail`, `generate`, `evaluate` and `demo`. Without a
 * SASL broker here, a spy on the client library records the configuration each consumer, producer
 * and admin client is created with, and every one must carry a harmless marker setting.
 */
import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AdminClient, KafkaConsumer, Producer } from '../../runtime/kafka/client.js';
import { runTopology } from '../../runtime/runner.js';
import { ensureTopics } from '../../runtime/kafka/admin.js';
import { produceCommand, tailCommand } from '../../cli/topic-commands.js';
import { generateCommand } from '../../cli/generate-command.js';
import { evaluateCommand } from '../../cli/evaluate-command.js';
import { demoCommand } from '../../cli/demo-command.js';
import { generateInferenceEvents } from '../../lab/generator/simple-stream.js';
import { createStateful } from '../fixtures/topologies/stateful.js';
import { sharedBroker, uniqueName } from '../support/broker.js';
import { feedEvents, testRunConfig } from '../support/kafka-fixtures.js';

/** librdkafka's reconnect back-off ceiling (default 10 000 ms): valid for every client, changes nothing here. */
const MARKER = { name: 'reconnect.backoff.max.ms', env: 'SIGNALPATH_KAFKA_RECONNECT_BACKOFF_MAX_MS', value: '9876' };

interface CreatedClient {
  readonly kind: 'consumer' | 'producer' | 'admin';
  readonly config: Readonly<Record<string, unknown>>;
}

type Connect = (this: { globalConfig: Record<string, unknown> }, ...args: unknown[]) => unknown;

/** Records the configuration of every client created until `restore`. */
function spyOnClients(): { readonly created: CreatedClient[]; restore(): void } {
  const created: CreatedClient[] = [];
  const consumerProto = KafkaConsumer.prototype as unknown as { connect: Connect };
  const producerProto = Producer.prototype as unknown as { connect: Connect };
  const admin = AdminClient as unknown as { create: (config: Record<string, unknown>, ...rest: unknown[]) => unknown };
  const originals = { consumer: consumerProto.connect, producer: producerProto.connect, admin: admin.create };
  consumerProto.connect = function (...args) {
    created.push({ kind: 'consumer', config: this.globalConfig });
    return originals.consumer.apply(this, args);
  };
  producerProto.connect = function (...args) {
    created.push({ kind: 'producer', config: this.globalConfig });
    return originals.producer.apply(this, args);
  };
  admin.create = (config, ...rest) => {
    created.push({ kind: 'admin', config });
    return originals.admin.call(AdminClient, config, ...rest);
  };
  return {
    created,
    restore: () => {
      consumerProto.connect = originals.consumer;
      producerProto.connect = originals.producer;
      admin.create = originals.admin;
    },
  };
}

/** Every client created carried the marker; returns how many of each kind there were. */
function expectMarkerEverywhere(created: readonly CreatedClient[]): Record<string, number> {
  const kinds: Record<string, number> = {};
  for (const client of created) {
    kinds[client.kind] = (kinds[client.kind] ?? 0) + 1;
    expect(client.config[MARKER.name], `${client.kind} client ${String(client.config['client.id'])} created without the client settings`).to.equal(MARKER.value);
  }
  return kinds;
}

describe('integration: client settings reach every Kafka client', function () {
  this.timeout(120_000);
  let brokers: string;
  let spy: ReturnType<typeof spyOnClients>;

  before(async () => {
    brokers = (await sharedBroker()).brokers;
  });

  beforeEach(() => {
    spy = spyOnClients();
    process.env[MARKER.env] = MARKER.value;
  });

  afterEach(() => {
    spy.restore();
    delete process.env[MARKER.env];
  });

  it('the runner: topics, labels topic and follower, changelog, source and sink', async () => {
    const name = uniqueName('cc').replace(/[^a-z0-9-]/g, '-');
    const input = uniqueName('cc-in');
    await feedEvents(brokers, input, 200);
    spy.created.length = 0;
    const stateful = createStateful('client-config');
    // The labels follower runs when the topology names a labels topic (a mention is any record here).
    const topology = { ...stateful, kpis: { labelsTopic: uniqueName('cc-labels'), mentionOf: (value: unknown) => ({ id: (value as { event_id: string }).event_id, score: 1 }) } };
    const running = await runTopology(topology, testRunConfig(brokers, {
      group: name,
      topics: { input, output: uniqueName('cc-out'), dlq: uniqueName('cc-dlq') },
      clientConfig: { [MARKER.name]: MARKER.value },
      untilIdleMs: 2_000,
      metricsPort: 0,
    }));
    const summary = await running.done;
    expect(summary.consumed).to.equal(200);
    const kinds = expectMarkerEverywhere(spy.created);
    const clientIds = spy.created.map((c) => String(c.config['client.id']));
    // The topics, the labels topic and the changelog: three admin clients.
    expect(kinds['admin']).to.be.at.least(3);
    expect(clientIds).to.include('signalpath-reader'); // the labels follower
    console.log(`      client settings: a stateful run with labels created ${JSON.stringify(kinds)} clients, each with them`);
  });

  it('produce, tail, generate and evaluate', async () => {
    const topic = uniqueName('cc-cli');
    const dir = mkdtempSync(path.join(tmpdir(), 'cc-'));
    const file = path.join(dir, 'events.jsonl');
    writeFileSync(file, [...generateInferenceEvents({ count: 5, seed: 1 }).events].map((e) => JSON.stringify(e)).join('\n'));
    // An empty mentions topic: evaluate reads it (and scores nothing).
    const mentions = uniqueName('cc-mentions');
    await ensureTopics(brokers, [{ topic: mentions, partitions: 1 }]);
    spy.created.length = 0;
    const counts: Record<string, Record<string, number>> = {};
    const check = (command: string): void => {
      counts[command] = expectMarkerEverywhere(spy.created);
      spy.created.length = 0;
    };
    const quiet = silenceConsole();
    try {
      await produceCommand(topic, { contract: 'inference-event', file, partitions: '2', brokers });
      check('produce');
      await tailCommand(topic, { brokers });
      check('tail');
      const generated = uniqueName('cc-gen');
      await generateCommand({ events: '50', seed: '1', topic: generated, truth: path.join(dir, 'truth.jsonl'), partitions: '2', brokers });
      check('generate');
      await evaluateCommand({ topic: mentions, truth: path.join(dir, 'truth.jsonl'), slack: '0', brokers });
      check('evaluate');
    } finally {
      quiet.restore();
    }
    expect(counts['produce']).to.include.keys('admin', 'producer');
    expect(counts['tail']).to.include.keys('consumer');
    expect(counts['generate']).to.include.keys('admin', 'producer');
    expect(counts['evaluate']).to.include.keys('consumer');
    console.log(`      client settings: clients created by command ${JSON.stringify(counts)}, each with them`);
  });
});

describe('integration: client settings reach the demo\'s clients', function () {
  this.timeout(180_000);

  it('demo: the generator, the in-process run and the mention readers', async () => {
    const { brokers } = await sharedBroker();
    const spy = spyOnClients();
    process.env[MARKER.env] = MARKER.value;
    const quiet = silenceConsole();
    try {
      await demoCommand({ events: '3000', seed: '5', brokers });
    } finally {
      quiet.restore();
      spy.restore();
      delete process.env[MARKER.env];
    }
    const kinds = expectMarkerEverywhere(spy.created);
    // Generator (admin + producer), run (admin, source, sink, changelog readers), two mention readers.
    expect(kinds).to.include.keys('admin', 'producer', 'consumer');
    expect(kinds['consumer']).to.be.at.least(3);
    console.log(`      client settings: the demo created ${JSON.stringify(kinds)} clients, each with them`);
  });
});

/** The commands print records and progress: keep the test output readable. */
function silenceConsole(): { restore(): void } {
  const { log, error } = console;
  console.log = () => {};
  console.error = () => {};
  return {
    restore: () => {
      console.log = log;
      console.error = error;
    },
  };
}
