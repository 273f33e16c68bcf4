/**
 * A real single-node Apache Kafka 4.x broker in KRaft mode, run from the jars that scripts/setup.sh
 * fetched from Maven Central into .cache/kafka/libs. Used by `npm start` when KAFKA_BROKERS is unset,
 * by `signalpath broker`, and by every integration test (test/support/root-hooks.ts).
 *
 * Each broker gets a fresh data folder under .data/ and two free loopback ports (client and
 * controller). In secured mode (`secured`) the client listener speaks SASL/SCRAM-SHA-256 over TLS:
 * the SCRAM users are written into the metadata log when the storage is formatted (`kafka-storage
 * format --add-scram`), and a throwaway CA and the broker's certificate (for 127.0.0.1) are made with
 * openssl at start, in the data folder; clients trust the CA file `security.caFile`. It is stopped by its own PID: SIGTERM, then SIGKILL after a grace period, and also when
 * this process exits, fails or is interrupted, so no test run leaves a JVM behind.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AdminClient } from '../kafka/client.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface LocalBrokerOptions {
  /** Folder holding Kafka's jars. Default: .cache/kafka/libs (scripts/setup.sh fills it). */
  readonly libsDir?: string;
  /** Parent folder for this broker's data folder. Default: .data/ in the project. */
  readonly dataRoot?: string;
  /** Client port; 0 (the default) picks a free one. */
  readonly port?: number;
  /** How long to wait for the broker to answer metadata requests. Default 90 000 ms. */
  readonly startTimeoutMs?: number;
  /** Default partition count of auto-created topics (the runner creates its topics explicitly). */
  readonly defaultPartitions?: number;
  /** Maximum JVM heap. Default '768m'. */
  readonly heap?: string;
  /** Keep the data folder after stop (for looking at logs). Default false. */
  readonly keepData?: boolean;
  /**
   * Kill the broker and exit on SIGINT/SIGTERM (default true: right for tests and scripts). A command
   * that drains on those signals itself passes false and stops the broker after draining.
   */
  readonly handleSignals?: boolean;
  /** Secured mode: SASL/SCRAM-SHA-256 over TLS on the client listener. Default: plaintext. */
  readonly secured?: SecuredBrokerOptions;
}

export interface SecuredBrokerOptions {
  /** SCRAM-SHA-256 users created at format time: name → password. */
  readonly users: Readonly<Record<string, string>>;
  /** TLS on the client listener (SASL_SSL); false gives SASL_PLAINTEXT. Default true. */
  readonly tls?: boolean;
}

/** How clients reach a secured broker. */
export interface BrokerSecurity {
  readonly protocol: 'SASL_SSL' | 'SASL_PLAINTEXT';
  readonly mechanism: 'SCRAM-SHA-256';
  /** PEM file of the throwaway CA that signed the broker's certificate (TLS only). */
  readonly caFile: string | null;
  /** librdkafka settings for `user` (its password from the options, or `password` to try another). */
  clientConfig(user: string, password?: string): Record<string, string>;
}

/** The SCRAM user the broker itself logs in as on its own listener (created with the others). */
const BROKER_USER = 'signalpath-broker';

export interface LocalBroker {
  /** `127.0.0.1:<port>`, for KAFKA_BROKERS / bootstrap.servers. */
  readonly brokers: string;
  readonly pid: number;
  readonly dataDir: string;
  /** Set in secured mode: what clients need to connect. */
  readonly security: BrokerSecurity | null;
  /** Stops the broker (SIGTERM, SIGKILL after 20 s) and removes its data folder. Idempotent. */
  stop(): Promise<void>;
  /** Kills the broker at once (kill -9), for fault tests; `start` of a new one is up to the caller. */
  kill(): void;
  /**
   * Stops the broker process (SIGTERM by default: a clean shutdown; SIGKILL: a crash) and keeps its
   * ports and data, for fault tests; {@link restart} starts it again.
   */
  halt(signal?: NodeJS.Signals): Promise<void>;
  /** Starts a halted broker again on the same ports and data; resolves once it answers metadata. */
  restart(): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Starts a broker and resolves once it answers metadata requests. */
export async function startLocalBroker(options: LocalBrokerOptions = {}): Promise<LocalBroker> {
  const libsDir = options.libsDir ?? path.join(projectRoot, '.cache', 'kafka', 'libs');
  if (!existsSync(libsDir) || !readdirSync(libsDir).some((f) => f.startsWith('kafka_2.13-'))) {
    throw new Error(`no Kafka jars in ${libsDir}: run \`npm run setup\` (it fetches them from Maven Central)`);
  }
  const port = options.port || (await freePort());
  const controllerPort = await freePort();
  const dataRoot = options.dataRoot ?? path.join(projectRoot, '.data');
  const dataDir = path.join(dataRoot, `kafka-${port}-${Date.now()}`);
  const logDir = path.join(dataDir, 'logs');
  mkdirSync(path.join(dataDir, 'kraft'), { recursive: true });
  mkdirSync(logDir, { recursive: true });

  const secured = options.secured === undefined ? null : prepareSecurity(options.secured, dataDir);
  const propertiesFile = path.join(dataDir, 'server.properties');
  writeFileSync(propertiesFile, serverProperties({ port, controllerPort, dataDir, partitions: options.defaultPartitions ?? 4 }, secured?.properties ?? null));
  const log4jFile = path.join(dataDir, 'log4j2.properties');
  writeFileSync(log4jFile, log4jProperties(path.join(logDir, 'server.log')));

  const classpath = `${libsDir}/*`;
  const jvm = [`-Xms256m`, `-Xmx${options.heap ?? '768m'}`, '-XX:+UseG1GC', `-Dlog4j2.configurationFile=${log4jFile}`, `-Dkafka.logs.dir=${logDir}`];
  await runToCompletion('java', [...jvm, '-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', propertiesFile, ...(secured?.formatArgs ?? [])], path.join(logDir, 'format.log'));

  // The JVM can be stopped and started again on the same ports and data (fault tests): `launch`
  // starts one, `current` is the one running.
  const brokers = `127.0.0.1:${port}`;
  interface Jvm {
    readonly child: ChildProcess;
    readonly exited: Promise<number | null>;
  }
  const launch = async (): Promise<Jvm> => {
    const out = createWriteStream(path.join(logDir, 'stdout.log'), { flags: 'a' });
    const child = spawn('java', [...jvm, '-cp', classpath, 'kafka.Kafka', propertiesFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(out);
    child.stderr.pipe(out);
    running.add(child);
    installExitHook(options.handleSignals ?? true);
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => {
        running.delete(child);
        resolve(code);
      }),
    );
    try {
      await Promise.race([
        waitForMetadata(brokers, options.startTimeoutMs ?? 90_000, secured?.security.clientConfig(BROKER_USER)),
        exited.then((code) => {
          throw new Error(`the local Kafka broker exited with code ${code} during start; see ${path.join(logDir, 'stdout.log')}`);
        }),
      ]);
    } catch (error) {
      // The data folder (with the broker's logs) is kept after a failed start, for diagnosis.
      stopped = true;
      child.kill('SIGKILL');
      await exited;
      throw error;
    }
    return { child, exited };
  };
  const halt = async (jvmToStop: Jvm, signal: NodeJS.Signals): Promise<void> => {
    const { child, exited } = jvmToStop;
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };

  let stopped = false;
  let current: Jvm | null = await launch();
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (current !== null) await halt(current, 'SIGTERM');
    current = null;
    if (!options.keepData) rmSync(dataDir, { recursive: true, force: true });
  };
  return {
    brokers,
    get pid() {
      return current?.child.pid ?? -1;
    },
    dataDir,
    security: secured?.security ?? null,
    stop,
    kill: () => {
      stopped = true;
      current?.child.kill('SIGKILL');
    },
    halt: async (signal = 'SIGTERM') => {
      if (stopped || current === null) throw new Error('halt(): the broker is not running');
      const jvmToStop = current;
      current = null;
      await halt(jvmToStop, signal);
    },
    restart: async () => {
      if (stopped) throw new Error('restart(): the broker was stopped for good');
      if (current !== null) throw new Error('restart(): the broker is running; halt() it first');
      current = await launch();
    },
  };
}

/** Resolves once a metadata request to `brokers` succeeds, polling until `timeoutMs`. */
export async function waitForMetadata(brokers: string, timeoutMs: number, clientConfig?: Readonly<Record<string, string>>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const admin = AdminClient.create({ 'bootstrap.servers': brokers, 'log_level': 0, ...clientConfig });
    try {
      await new Promise<void>((resolve, reject) =>
        admin.listTopics({ timeout: 2_000 }, (err) => (err ? reject(err) : resolve())),
      );
      return;
    } catch (error) {
      lastError = error;
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      admin.disconnect();
    }
  }
  throw new Error(`the Kafka broker at ${brokers} did not answer metadata requests within ${timeoutMs} ms: ${String((lastError as Error)?.message ?? lastError)}`);
}

/**
 * Secured mode's files and settings: SCRAM users for the format tool; with TLS, a throwaway CA and a
 * broker certificate for 127.0.0.1 (openssl), in a PKCS#12 keystore whose password is random.
 */
function prepareSecurity(options: SecuredBrokerOptions, dataDir: string): { properties: string[]; formatArgs: string[]; security: BrokerSecurity } {
  const tls = options.tls ?? true;
  const protocol = tls ? 'SASL_SSL' : 'SASL_PLAINTEXT';
  const brokerPassword = randomBytes(18).toString('base64url');
  const users: Record<string, string> = { ...options.users, [BROKER_USER]: brokerPassword };
  const formatArgs: string[] = [];
  for (const [name, password] of Object.entries(users)) {
    if (!/^[A-Za-z0-9._-]+$/.test(name) || /[\],"]/.test(password)) {
      throw new TypeError(`secured broker: user names are letters, digits, '.', '_', '-'; passwords may not contain ] , or "; got user ${JSON.stringify(name)}`);
    }
    formatArgs.push('--add-scram', `SCRAM-SHA-256=[name=${name},password=${password}]`);
  }
  const listener = protocol.toLowerCase();
  const properties = [
    `sasl.enabled.mechanisms=SCRAM-SHA-256`,
    `sasl.mechanism.inter.broker.protocol=SCRAM-SHA-256`,
    `listener.name.${listener}.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${BROKER_USER}" password="${brokerPassword}";`,
  ];
  let caFile: string | null = null;
  if (tls) {
    const tlsDir = path.join(dataDir, 'tls');
    mkdirSync(tlsDir, { recursive: true });
    const storePassword = randomBytes(18).toString('base64url');
    caFile = path.join(tlsDir, 'ca.pem');
    const openssl = (...args: string[]): void => {
      execFileSync('openssl', args, { cwd: tlsDir, stdio: ['ignore', 'ignore', 'pipe'] });
    };
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=signalpath throwaway test CA');
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'broker.key', '-out', 'broker.csr', '-subj', '/CN=127.0.0.1');
    writeFileSync(path.join(tlsDir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    openssl('x509', '-req', '-in', 'broker.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'broker.pem', '-days', '2', '-extfile', 'san.ext');
    openssl('pkcs12', '-export', '-in', 'broker.pem', '-inkey', 'broker.key', '-out', 'broker.p12', '-passout', `pass:${storePassword}`);
    properties.push(
      `ssl.keystore.type=PKCS12`,
      `ssl.keystore.location=${path.join(tlsDir, 'broker.p12')}`,
      `ssl.keystore.password=${storePassword}`,
      // The broker checks its own certificate as a client of its listener would: it trusts the CA too.
      `ssl.truststore.type=PEM`,
      `ssl.truststore.location=${caFile}`,
      `ssl.client.auth=none`,
    );
  }
  const security: BrokerSecurity = {
    protocol,
    mechanism: 'SCRAM-SHA-256',
    caFile,
    clientConfig: (user, password) => ({
      'security.protocol': protocol,
      'sasl.mechanisms': 'SCRAM-SHA-256',
      'sasl.username': user,
      'sasl.password': password ?? users[user] ?? '',
      ...(caFile === null ? {} : { 'ssl.ca.location': caFile }),
    }),
  };
  return { properties, formatArgs, security: Object.freeze(security) };
}

function serverProperties(p: { port: number; controllerPort: number; dataDir: string; partitions: number }, security: readonly string[] | null): string {
  // Secured: the client listener (also the one the broker uses for itself) is SASL_SSL or SASL_PLAINTEXT.
  const protocol = security === null ? 'PLAINTEXT' : security.some((l) => l.startsWith('ssl.')) ? 'SASL_SSL' : 'SASL_PLAINTEXT';
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${p.controllerPort}`,
    `listeners=${protocol}://127.0.0.1:${p.port},CONTROLLER://127.0.0.1:${p.controllerPort}`,
    `advertised.listeners=${protocol}://127.0.0.1:${p.port}`,
    'controller.listener.names=CONTROLLER',
    `listener.security.protocol.map=${protocol}:${protocol},CONTROLLER:PLAINTEXT`,
    `inter.broker.listener.name=${protocol}`,
    ...(security ?? []),
    `log.dirs=${path.join(p.dataDir, 'kraft')}`,
    `num.partitions=${p.partitions}`,
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=4',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    // A single local consumer should not wait 3 s for a group to fill.
    'group.initial.rebalance.delay.ms=0',
    // Topics are created by the runner with their declared partition counts, never by accident.
    'auto.create.topics.enable=false',
    'log.segment.bytes=268435456',
    '',
  ].join('\n');
}

function log4jProperties(file: string): string {
  return [
    'status = warn',
    'appender.file.type = File',
    'appender.file.name = FILE',
    `appender.file.fileName = ${file}`,
    'appender.file.layout.type = PatternLayout',
    'appender.file.layout.pattern = [%d] %p %m (%c)%n',
    'rootLogger.level = WARN',
    'rootLogger.appenderRef.file.ref = FILE',
    'logger.kafka.name = kafka.server.KafkaServer',
    'logger.kafka.level = INFO',
    '',
  ].join('\n');
}

/**
 * KRaft cluster ids are 16 random bytes in URL-safe base64 without padding (22 characters). One in 64
 * starts with '-', which the format tool's argument parser reads as an option ("argument
 * --cluster-id/-t: expected one argument"); Kafka's own Uuid.randomUuid() redraws those, and so do we.
 */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function runToCompletion(command: string, args: string[], logFile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(logFile);
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(out);
    child.stderr.pipe(out);
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.at(-5) ?? ''} failed with code ${code}; see ${logFile}`))));
  });
}

/** Kill every broker this process started if it exits without stopping them (test failure, Ctrl-C). */
let signalHooksInstalled = false;

function installExitHook(handleSignals: boolean): void {
  const killAll = (): void => {
    for (const child of running) child.kill('SIGKILL');
  };
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', killAll);
  }
  if (!handleSignals || signalHooksInstalled) return;
  signalHooksInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}
