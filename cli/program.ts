/**
 * The commands a shipped topology needs (`run`, `produce`, `tail`, `hotspots`) and how the command
 * line reports errors. Other tools drive `run` exactly as documented here, so its flags (`--group`,
 * `--topic role=name`, `--until-idle`, `--brokers`) are a contract.
 *
 * Two entry points use it: main.ts (the full command line, with the development commands) and
 * container-main.ts (what `signalpath build` compiles into a topology's image: only these commands,
 * so the image carries neither the lab nor the packaging tools).
 */
import { Command } from 'commander';
import { clientConfigFromEnv, ConfigError } from '../runtime/config.js';
import { Redactor } from '../runtime/security/redact.js';
import { runCommand } from './run-command.js';
import { produceCommand, tailCommand } from './topic-commands.js';
import { hotspotsCommand } from './hotspots-command.js';
import { brokersOption, collect, setting } from './options.js';

/** The `signalpath` program with the shipped commands; `registerMore` adds commands before `hotspots`. */
export function createProgram(registerMore?: (program: Command) => void): Command {
  const program = new Command('signalpath')
    .description('Stream-processing topologies as code (RxJS on Kafka) for monitoring AI models.')
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('run')
    .description('Run a topology against KAFKA_BROKERS (or --brokers, or a local broker when neither is set).')
    .argument('<topology>', 'a topology name (a folder under topologies/) or a path to a topology module')
    .addOption(brokersOption())
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
    .addOption(setting('topicFormats', '--format <role=format>').argParser(collect).default([]))
    .addOption(setting('inputWriterVersion', '--input-writer-version <n>'))
    .addOption(setting('metricsPort', '--metrics-port <port>'))
    .addOption(setting('telemetry', '--telemetry <on|off>'))
    .addOption(setting('traceContext', '--trace-context <on|off>'))
    .addOption(setting('tailPercentile', '--tail-percentile <p>'))
    .addOption(setting('traceBaselineRate', '--trace-baseline <fraction>'))
    .addOption(setting('readyMaxLag', '--ready-max-lag <records>'))
    .addOption(setting('pricePerEventUsd', '--price-per-event <usd>'))
    .addOption(setting('pricePerEnrichmentCallUsd', '--price-per-enrichment-call <usd>'))
    .addOption(setting('pricePerDetectorCallUsd', '--price-per-detector-call <usd>'))
    .addOption(setting('summaryFile', '--summary <file.json>'))
    .addOption(setting('state', '--state <on|off>'))
    .addOption(setting('stateSnapshotIntervalMs', '--state-snapshot-interval <ms>'))
    .addOption(setting('stateNamespace', '--state-namespace <name>'))
    .addOption(setting('exactlyOnce', '--exactly-once'))
    .addOption(setting('instanceId', '--instance-id <name>'))
    .addOption(setting('maxRecordBytes', '--max-record-bytes <bytes>'))
    .addOption(setting('hotspotsFile', '--hotspots-file <path>'))
    .addOption(setting('instances', '--instances <n>'))
    .option('--quiet', 'print only the final summary')
    .action(runCommand);

  program
    .command('produce')
    .description('Put Avro records on a topic from JSON lines (a file, or standard input).')
    .argument('<topic>', 'topic to write to (created if missing)')
    .requiredOption('--contract <name>', 'the value contract: inference-event, mention, label, dead-letter, or one of the project\'s own (schemas/<name>/)')
    .option('--file <path>', 'JSON-lines file to read (default: standard input)')
    .option('--partitions <n>', 'partitions if the topic must be created', '4')
    .addOption(brokersOption())
    .action(produceCommand);

  program
    .command('tail')
    .description('Print a topic as JSON lines, decoding each record with the contract its headers name.')
    .argument('<topic>', 'topic to read (from the beginning)')
    .option('--contract <name>', 'decode with this contract when records carry no schema header')
    .option('--max <n>', 'stop after this many records')
    .option('--follow', 'keep waiting for new records (Ctrl-C to stop)')
    .addOption(brokersOption())
    .action(tailCommand);

  registerMore?.(program);

  program
    .command('hotspots')
    .description('What the tail of a run is made of: which step, key, partition, lane, cache misses and enrichment retries the slow records share, beside the baseline (from a run\'s --hotspots-file).')
    .argument('<file>', 'the JSON-lines file a run wrote with --hotspots-file')
    .option('--top <n>', 'rows per table', '5')
    .option('--topology <name>', 'only records of this topology (a file shared by several)')
    .option('--json', 'print the report as JSON')
    .action(hotspotsCommand);

  return program;
}

// Errors can carry what a client echoed back (a broker's or librdkafka's text): redact credentials.
const redactError = (text: string): string => {
  try {
    return Redactor.forClientConfig(clientConfigFromEnv(process.env)).redact(text);
  } catch {
    return text; // the configuration itself is invalid: that error never repeats a value
  }
};

/** Parses argv and runs the command; a configuration error exits 2, any other error 1 (credentials redacted). */
export async function runProgram(program: Command): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`signalpath: ${redactError(error.message)}`);
      process.exit(2);
    }
    console.error(`signalpath: ${redactError(String((error as Error).message ?? error))}`);
    process.exit(1);
  }
}
