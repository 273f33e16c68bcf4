/**
 * The development commands: the lab (demo, generate, evaluate, label, lab, nab), the local broker, and
 * the authoring tools (init, new, build, schemas: authoring-commands.ts). main.ts registers them;
 * container-main.ts, the entry of a topology's image, does not, so the image leaves all of it (and its
 * dependencies) out; the installed package (package-main.ts) has only the authoring tools, as the lab
 * and the local broker's jars are in this repository only.
 */
import type { Command } from 'commander';
import { brokerCommand } from './broker-command.js';
import { demoCommand } from './demo-command.js';
import { nabCommand } from './nab-command.js';
import { generateCommand } from './generate-command.js';
import { evaluateCommand } from './evaluate-command.js';
import { registerAuthoringCommands } from './authoring-commands.js';
import { labCommand } from './lab-command.js';
import { labelCommand } from './label-command.js';
import { shadowReportCommand } from './shadow-report-command.js';
import { registryCommand } from './registry-command.js';
import { brokersOption, setting } from './options.js';
import { PROFILE_NAMES } from '../lab/generator/index.js';

export function registerDevCommands(program: Command): void {
  program
    .command('broker')
    .description('Start a local Kafka broker (KRaft, 127.0.0.1) and keep it running until Ctrl-C.')
    .action(brokerCommand);

  program
    .command('registry')
    .description("Start the lab's model registry (model metadata over HTTP, with a heavy-tailed response time and injected errors) and keep it running until Ctrl-C: MODEL_REGISTRY_URL for model-monitor's enrichment.")
    .option('--port <n>', 'TCP port (0: a free one)', '8090')
    .option('--host <address>', 'address to listen on (0.0.0.0 in a container)', '127.0.0.1')
    .option('--models <n>', 'models it knows: model-000 … model-<n-1>', '1000')
    .option('--latency <ms>', 'median response time, ms', '2')
    .option('--error-rate <share>', 'share of requests answered 503', '0.01')
    .option('--seed <n>', 'seed of the latency and error draws', '1')
    .action(registryCommand);

  program
    .command('demo')
    .description('The main job (`npm start`): broker, model registry, a generated stream with ground truth, model-monitor until idle, evaluation, KPIs.')
    .option('--events <n>', 'events to generate', '200000')
    .option('--seed <n>', 'generator seed', '7')
    .addOption(brokersOption())
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
    .option('--profile <name>', `stream shape: ${PROFILE_NAMES.join(', ')} (docs/lab.md); default is the lab's own stream`, 'default')
    .option('--models <n>', 'number of models (default: the profile\'s; 50 for default)')
    .option('--incidents <n>', 'incidents to inject (default max(3, events / 20000))')
    .option('--events-per-second <n>', 'mean event rate in event time (default: the profile\'s; 100 for default)')
    .option('--partitions <n>', 'partitions if the topic must be created', '4')
    .option('--nab', 'replay the NAB corpus (NAB_DATA_DIR, else ../shared/data/nab) as keyed series inside the background, its labelled windows as the incidents (background incidents: --incidents, default none)')
    .addOption(brokersOption())
    .action(generateCommand);

  program
    .command('label')
    .description("The lab's labelers: follow the fast lane (mentions.review) and the slow lane (mentions), decide each label from the ground truth of signalpath generate, and write Label records (a configurable delay per lane in event time, a capacity, shares of unsure and wrong labels).")
    .option('--truth <file>', 'ground-truth JSON-lines file from signalpath generate', 'reports/truth.jsonl')
    .option('--fast-topic <name>', 'the fast lane', 'mentions.review')
    .option('--slow-topic <name>', 'the slow lane', 'mentions')
    .option('--labels-topic <name>', 'where labels go', 'labels')
    .option('--shadow-topic <name>', "shadow mentions (MODEL_MONITOR_SHADOW_DETECTORS), a share of them labelled outside the live lanes' capacity; '' : none", 'mentions.shadow')
    .option('--shadow-share <share>', 'share of shadow mentions labelled (a draw per mention id)', '0.2')
    .option('--fast-delay <min,max>', 'minutes of event time from a fast-lane mention to its label', '2,10')
    .option('--slow-batch <min,max>', 'hours of event time between two slow-lane batches', '24,48')
    .option('--capacity <n>', "labels per hour of event time, or 'unlimited'", '120')
    .option('--unsure <share>', 'share of labels that are UNSURE', '0.05')
    .option('--wrong <share>', 'share of the other labels whose verdict is wrong', '0.02')
    .option('--seed <n>', 'seed of every draw (same mentions, same labels)', '1')
    .option('--until-idle <ms>', 'stop once neither lane has had a mention for this long (default: until Ctrl-C)')
    .option('--flush', 'when stopping, label what is still pending (a finished replay)')
    .addOption(brokersOption())
    .action(labelCommand);

  program
    .command('shadow-report')
    .description('Compare live mentions with each shadow detector\'s (MODEL_MONITOR_SHADOW_DETECTORS) over one event-time range: agreement, live-only and shadow-only mentions per field, labelled precision with a Wilson interval, and a verdict (promote, hold, regression) by the rule it prints; writes <reports>/shadow-report.md and .json.')
    .option('--topic <name>', 'live mentions', 'mentions')
    .option('--shadow-topic <name>', 'shadow mentions', 'mentions.shadow')
    .option('--labels-topic <name>', 'labels', 'labels')
    .option('--from <time>', "event time: mentions whose window starts at or after it (epoch ms or ISO-8601); default: the topics' beginning")
    .option('--to <time>', 'event time: mentions whose window starts before it; default: no end')
    .option('--truth <file>', 'ground-truth JSON-lines file from signalpath generate: adds each side\'s precision against the truth')
    .option('--slack <ms>', 'with --truth: a mention window may miss the incident by this much and still match', '60000')
    .option('--target <precision>', 'target precision of the verdict rule', '0.95')
    .option('--min-labels <n>', 'labels each side needs before a verdict other than hold', '10')
    .option('--confidence <c>', 'confidence of the precision intervals', '0.95')
    .option('--reports <dir>', 'folder for shadow-report.md and shadow-report.json', 'reports')
    .addOption(brokersOption())
    .action(async (flags: Parameters<typeof shadowReportCommand>[0]) => {
      await shadowReportCommand(flags);
    });

  program
    .command('evaluate')
    .description('Score a mentions topic (read from its beginning to its end) against the ground truth of signalpath generate: recall, precision, false-positive rate, mention rate, delays.')
    .option('--topic <name>', 'mentions topic', 'mentions')
    .option('--truth <file>', 'ground-truth JSON-lines file from signalpath generate', 'reports/truth.jsonl')
    .option('--since <epoch-ms>', 'only mentions emitted at or after this time (a topic shared by several runs)')
    .option('--slack <ms>', 'a mention window may miss the incident by this much and still match', '60000')
    .option('--episode-gap <ms>', 'mentions of one model × segment × field × direction at most this far apart are one episode (default 120000: one dedup window + the slack)')
    .option('--json <file>', 'also write the scores as JSON')
    .option('--summary <file.json>', 'run summary of the topology run (signalpath run --summary): adds spend, mentions per $1k, CPU seconds, peak RSS')
    .addOption(brokersOption())
    .action(evaluateCommand);

  registerAuthoringCommands(program);

  program
    .command('lab')
    .description('The signal-path lab: one generated stream, the baseline, the signal-path topology and one ablation per component as separate model-monitor processes on one broker; writes reports/lab.md, lab.html, lab.json.')
    .option('--events <n>', 'events to generate (≥ 2,000,000 for the study\'s scale)', '200000')
    .option('--seed <n>', 'generator seed', '7')
    .option('--profile <name>', `generator: stream shape, ${PROFILE_NAMES.join(', ')} (docs/lab.md)`, 'default')
    .option('--models <n>', 'generator: number of models (default: the profile\'s; 50 for default)')
    .option('--incidents <n>', 'generator: incidents to inject (default max(3, events / 20000))')
    .option('--events-per-second <n>', 'generator: mean event rate in event time (default: the profile\'s; 100 for default)')
    .option('--sample-fraction <f>', 'share of the input every variant samples (equal budgets)', '0.01')
    .option('--concurrency <n>', 'variant processes at once', '2')
    .option('--only <a,b,...>', 'run only these variants (baseline, signal-path, ceiling, sketch-only, sampling-uniform, …)')
    .option('--reports <dir>', 'folder for lab.md, lab.html, lab.json (per-variant summaries and logs in <dir>/lab/)', 'reports')
    .option('--until-idle <ms>', 'a variant ends once its input has been idle this long', '10000')
    .addOption(setting('pricePerEventUsd', '--price-per-event <usd>'))
    .addOption(setting('pricePerEnrichmentCallUsd', '--price-per-enrichment-call <usd>'))
    .addOption(setting('pricePerDetectorCallUsd', '--price-per-detector-call <usd>'))
    .option('--no-progress', 'log lines instead of progress bars')
    .option('--render-only', 'render the reports again from what the last run left in <reports>/lab/ (no broker, no run)')
    .addOption(brokersOption())
    .action(labCommand);
}
