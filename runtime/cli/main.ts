/**
 * The `signalpath` command line. Other tools drive `run` exactly as documented here, so its flags
 * (`--group`, `--topic role=name`, `--until-idle`, `--brokers`) are a contract.
 */
import { Command, Option } from 'commander';
import { ConfigError } from '../config.js';
import { runCommand } from './run-command.js';
import { produceCommand, tailCommand } from './topic-commands.js';
import { brokerCommand } from './broker-command.js';
import { demoCommand } from './demo-command.js';
import { nabCommand } from './nab-command.js';
import { generateCommand } from './generate-command.js';
import { evaluateCommand } from './evaluate-command.js';
import { hotspotsCommand } from './hotspots-command.js';
import { SETTINGS } from '../config.js';

const program = new Command('signalpath')
  .description('Stream-processing topologies as code (RxJS on Kafka) for monitoring AI models.')
  .showHelpAfterError('(run with --help for usage)');

const collect = (value: string, previous: string[]): string[] => [...previous, value];
const setting = (name: keyof typeof SETTINGS, flags: string): Option => new Option(flags, `${SETTINGS[name].help} [env ${SETTINGS[name].env}]`);

program
  .command('run')
  .description('Run a topology against KAFKA_BROKERS (or --brokers, or a local broker when neither is set).')
  .argument('<topology>', 'a topology name (a folder under topologies/) or a path to a topology module')
  .addOption(setting('brokers', '--brokers <host:port,...>'))
  .addOption(setting('group', '--group <id>'))
  .option('--topic <role=name>', 'override a topic by role: input, dlq, or a declared output (repeatable)', collect, [])
  .addOption(setting('untilIdleMs', '--until-idle <ms>'))
  .addOption(setting('maxUnsettled', '--max-unsettled <n>'))
  .addOption(setting('partitionHighWater', '--partition-high-water <n>'))
  .addOption(setting('batchSize', '--batch-size <n>'))
  .addOption(setting('commitIntervalMs', '--commit-interval <ms>'))
  .addOption(setting('drainTimeoutMs', '--drain-timeout <ms>'))
  .addOption(setting('allowedLatenessMs', '--allowed-lateness <ms>'))
  .addOption(setting('partitionIdleTimeoutMs', '--partition-idle-timeout <ms>'))
  .addOption(setting('maxEventTimeDriftMs', '--max-event-time-drift <ms>'))
  .addOption(setting('startFrom', '--start-from <earliest|latest>'))
  .addOption(setting('partitions', '--partitions <n>'))
  .addOption(setting('schemaRegistryUrl', '--schema-registry <url>'))
  .addOption(setting('metricsPort', '--metrics-port <port>'))
  .addOption(setting('telemetry', '--telemetry <on|off>'))
  .addOption(setting('traceContext', '--trace-context <on|off>'))
  .addOption(setting('tailPercentile', '--tail-percentile <p>'))
  .addOption(setting('traceBaselineRate', '--trace-baseline <fraction>'))
  .addOption(setting('readyMaxLag', '--ready-max-lag <records>'))
  .addOption(setting('hotspotsFile', '--hotspots-file <path>'))
  .option('--quiet', 'print only the final summary')
  .action(runCommand);

program
  .command('produce')
  .description('Put Avro records on a topic from JSON lines (a file, or standard input).')
  .argument('<topic>', 'topic to write to (created if missing)')
  .requiredOption('--contract <name>', 'the value contract: inference-event, mention, label or dead-letter')
  .option('--file <path>', 'JSON-lines file to read (default: standard input)')
  .option('--partitions <n>', 'partitions if the topic must be created', '4')
  .option('--brokers <host:port,...>', 'Kafka bootstrap servers [env KAFKA_BROKERS]')
  .action(produceCommand);

program
  .command('tail')
  .description('Print a topic as JSON lines, decoding each record with the contract its headers name.')
  .argument('<topic>', 'topic to read (from the beginning)')
  .option('--contract <name>', 'decode with this contract when records carry no schema header')
  .option('--max <n>', 'stop after this many records')
  .option('--follow', 'keep waiting for new records (Ctrl-C to stop)')
  .option('--brokers <host:port,...>', 'Kafka bootstrap servers [env KAFKA_BROKERS]')
  .action(tailCommand);

program
  .command('broker')
  .description('Start a local Kafka broker (KRaft, 127.0.0.1) and keep it running until Ctrl-C.')
  .action(brokerCommand);

program
  .command('demo')
  .description('The main job (`npm start`): broker, model registry, a generated stream with ground truth, model-monitor until idle, evaluation, KPIs.')
  .option('--events <n>', 'events to generate', '200000')
  .option('--seed <n>', 'generator seed', '7')
  .option('--brokers <host:port,...>', 'Kafka bootstrap servers [env KAFKA_BROKERS]; unset: a local broker')
  .action(demoCommand);

program
  .command('nab')
  .description('Score the detectors on the NAB benchmark through parallelDetect; print the scoreboard beside the published one and points/s.')
  .option('--out <dir>', 'root of the NAB-format results', 'reports/nab')
  .option('--reports <dir>', 'folder for nab.md, nab.html and nab.json', 'reports')
  .option('--detectors <a,b,...>', 'detectors to run (registry names); default: all')
  .action(nabCommand);

program
  .command('generate')
  .description('Write the lab generator\'s seeded InferenceEvents (Zipf models, rare segments, daily pattern, injected incidents) to a topic, and the ground truth to a JSON-lines file.')
  .option('--events <n>', 'events to generate', '200000')
  .option('--seed <n>', 'generator seed (same seed, same events)', '1')
  .option('--topic <name>', 'topic to write to (created if missing)', 'inference-events')
  .option('--truth <file>', 'ground-truth JSON-lines file to write', 'reports/truth.jsonl')
  .option('--models <n>', 'number of models (default 50)')
  .option('--incidents <n>', 'incidents to inject (default max(3, events / 20000))')
  .option('--events-per-second <n>', 'mean event rate in event time (default 100)')
  .option('--partitions <n>', 'partitions if the topic must be created', '4')
  .option('--brokers <host:port,...>', 'Kafka bootstrap servers [env KAFKA_BROKERS]; unset: a local broker')
  .action(generateCommand);

program
  .command('evaluate')
  .description('Score a mentions topic (read from its beginning to its end) against the ground truth of signalpath generate: recall, precision, false-positive rate, mention rate, delays.')
  .option('--topic <name>', 'mentions topic', 'mentions')
  .option('--truth <file>', 'ground-truth JSON-lines file from signalpath generate', 'reports/truth.jsonl')
  .option('--since <epoch-ms>', 'only mentions emitted at or after this time (a topic shared by several runs)')
  .option('--slack <ms>', 'a mention window may miss the incident by this much and still match', '60000')
  .option('--json <file>', 'also write the scores as JSON')
  .option('--brokers <host:port,...>', 'Kafka bootstrap servers [env KAFKA_BROKERS]; unset: a local broker')
  .action(evaluateCommand);

program
  .command('hotspots')
  .description('What the tail of a run is made of: which step, key, partition, lane, cache misses and enrichment retries the slow records share, beside the baseline (from a run\'s --hotspots-file).')
  .argument('<file>', 'the JSON-lines file a run wrote with --hotspots-file')
  .option('--top <n>', 'rows per table', '5')
  .option('--topology <name>', 'only records of this topology (a file shared by several)')
  .option('--json', 'print the report as JSON')
  .action(hotspotsCommand);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`signalpath: ${error.message}`);
    process.exit(2);
  }
  console.error(`signalpath: ${(error as Error).message ?? error}`);
  process.exit(1);
}
