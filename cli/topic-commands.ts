/** `signalpath produce` and `signalpath tail`: the everyday tools to poke at a running topology. */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Contract } from '../schemas/index.js';
import { ConfigError } from '../runtime/config.js';
import { findProject, findProjectContract, projectContracts } from '../runtime/project.js';
import { ensureTopics } from '../runtime/kafka/admin.js';
import { readTopic } from '../runtime/kafka/topic-reader.js';
import { writeTopic } from '../runtime/kafka/topic-writer.js';
import { createTopicSerde, SCHEMA_HEADER, type TopicSerde } from '../runtime/serde/index.js';
import { connectKafka } from './client-settings.js';
import { toJsonLine } from './json.js';
import { fromKafkaHeaders } from '../runtime/kafka/headers.js';

const log = (message: string): void => console.error(message);

/** The built-in contracts and the current project's own (its schemas/ folder). */
const knownContracts = (): ReadonlyMap<string, Contract<unknown>> => projectContracts(findProject());

function contractNamed(name: string, contracts = knownContracts()): Contract<unknown> {
  const contract = findProjectContract(contracts, name);
  if (!contract) {
    const known = [...contracts.values()].map((c) => c.folder).join(', ');
    throw new ConfigError(`--contract ${name}: unknown contract; expected one of ${known}`);
  }
  return contract;
}

export async function produceCommand(topic: string, flags: { contract: string; file?: string; partitions: string; brokers?: string }): Promise<void> {
  const contract = contractNamed(flags.contract);
  const partitions = Number(flags.partitions);
  if (!Number.isInteger(partitions) || partitions < 1) throw new ConfigError(`--partitions ${flags.partitions}: expected a whole number ≥ 1`);
  const connection = await connectKafka(flags.brokers, log);
  const { clientConfig } = connection;
  try {
    await ensureTopics(connection.brokers, [{ topic, partitions }], undefined, clientConfig);
    const input = flags.file ? createReadStream(flags.file) : process.stdin;
    let line = 0;
    async function* values(): AsyncGenerator<unknown> {
      for await (const text of createInterface({ input, crlfDelay: Infinity })) {
        line++;
        if (text.trim() === '') continue;
        try {
          yield JSON.parse(text);
        } catch (error) {
          throw new Error(`line ${line}: not JSON (${(error as Error).message})`, { cause: error });
        }
      }
    }
    let written: number;
    try {
      written = await writeTopic(values(), { brokers: connection.brokers, topic, contract, clientConfig });
    } catch (error) {
      // Values are encoded as they are read, so the line being read is the one that failed.
      throw new Error(`line ${line}: ${(error as Error).message}`, { cause: error });
    }
    log(`wrote ${written} ${contract.folder} records to ${topic}`);
  } finally {
    await connection.close();
  }
}

export async function tailCommand(topic: string, flags: { contract?: string; max?: string; follow?: boolean; brokers?: string }): Promise<void> {
  const contracts = knownContracts();
  const fallback = flags.contract ? contractNamed(flags.contract, contracts) : undefined;
  const max = flags.max === undefined ? undefined : Number(flags.max);
  if (max !== undefined && (!Number.isInteger(max) || max < 1)) throw new ConfigError(`--max ${flags.max}: expected a whole number ≥ 1`);
  const connection = await connectKafka(flags.brokers, log);
  const { clientConfig } = connection;
  const serdes = new Map<string, TopicSerde<unknown>>();
  const serdeFor = (contract: Contract<unknown>): TopicSerde<unknown> => {
    let serde = serdes.get(contract.name);
    if (!serde) serdes.set(contract.name, (serde = createTopicSerde({ contract, topic })));
    return serde;
  };
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  try {
    for await (const batch of readTopic({ brokers: connection.brokers, topic, toEnd: !flags.follow, maxRecords: max, signal: abort.signal, clientConfig })) {
      for (const message of batch) {
        const headers = fromKafkaHeaders(message.headers);
        const named = headers[SCHEMA_HEADER] ? findProjectContract(contracts, headers[SCHEMA_HEADER].toString()) : undefined;
        const contract = named ?? fallback;
        let value: unknown;
        if (!contract || message.value === null) value = message.value?.toString('base64') ?? null;
        else {
          try {
            value = serdeFor(contract).decode(message.value, headers);
          } catch (error) {
            value = { undecodable: (error as Error).message, base64: message.value.toString('base64') };
          }
        }
        console.log(toJsonLine({ partition: message.partition, offset: message.offset, key: message.key?.toString() ?? null, value }));
      }
    }
  } finally {
    await connection.close();
  }
}
