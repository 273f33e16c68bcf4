/**
 * The Kafka Streams peer of bench:e2e (bench/kafka-streams/: a Maven project, one class): built once
 * into .cache/kafka-streams/<hash of its sources>/ (offline from the local Maven repository when it
 * has every artifact, else from Maven Central), run as `java -jar` with the InferenceEvent schema the
 * Node side uses. Without Java or Maven, or when the build fails, the bench goes on without the peer
 * and says why.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { InferenceEventContract } from '../../schemas/index.js';
import { ROOT } from './support.js';

const run = promisify(execFile);
const PROJECT = path.join(ROOT, 'bench/kafka-streams');

export interface StreamsPeer {
  readonly jar: string;
  readonly schemaFile: string;
}

export interface StreamsPeerResult {
  readonly mode: string;
  readonly records: number;
  readonly seconds: number;
  readonly per_s: number;
  readonly cpu_s: number;
  readonly peak_rss_mb: number;
  /** KafkaStreams.close(): the last flush and commit, not in `seconds`. */
  readonly close_s: number;
}

/** Every file of the peer's sources, for the cache key. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'target' ? [] : sourceFiles(full);
    return [full];
  });
}

/** Builds the peer (or finds it built); null, after saying why, when it cannot be. */
export async function buildStreamsPeer(say: (message: string) => void): Promise<StreamsPeer | null> {
  for (const tool of ['java', 'mvn']) {
    try {
      await run(tool, ['-version']);
    } catch {
      say(`  Kafka Streams peer skipped: \`${tool}\` is not installed (it needs a JDK ≥ 17 and Maven)`);
      return null;
    }
  }
  const hash = createHash('sha256');
  for (const file of sourceFiles(PROJECT).sort()) hash.update(path.relative(PROJECT, file)).update(readFileSync(file));
  const dir = path.join(ROOT, '.cache/kafka-streams', hash.digest('hex').slice(0, 16));
  const jar = path.join(dir, 'kafka-streams-peer-1.jar');
  const schemaFile = path.join(dir, 'inference-event.avsc');
  if (!existsSync(jar)) {
    mkdirSync(dir, { recursive: true });
    const args = ['-q', '-f', path.join(PROJECT, 'pom.xml'), `-Dpeer.buildDirectory=${dir}`, 'package'];
    say(`  building the Kafka Streams peer (bench/kafka-streams) into ${path.relative(ROOT, dir)}…`);
    try {
      await run('mvn', ['-o', ...args], { maxBuffer: 1 << 24 });
    } catch {
      say('  not everything is in the local Maven repository: building online (Maven Central)…');
      try {
        await run('mvn', args, { maxBuffer: 1 << 24 });
      } catch (error) {
        const output = `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`;
        say(`  Kafka Streams peer skipped: the Maven build failed:\n${output.split('\n').slice(-15).join('\n')}`);
        return null;
      }
    }
  }
  // The schema exactly as the Node side reads and writes it.
  writeFileSync(schemaFile, JSON.stringify(InferenceEventContract.schema));
  return { jar, schemaFile };
}

/** One pass of the peer (`passthrough` or `monitor`) over `count` records of `input`. */
export function runStreamsPeer(peer: StreamsPeer, workload: 'passthrough' | 'monitor', brokers: string, input: string, output: string, count: number): Promise<StreamsPeerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('java', ['-Xmx1g', '-jar', peer.jar, workload, brokers, input, output, String(count), peer.schemaFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    // Kafka's clients log through slf4j without a binding here: keep stderr for a failure's message.
    child.stderr.on('data', (chunk: Buffer) => (err = (err + chunk.toString()).slice(-4000)));
    child.on('exit', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last) as StreamsPeerResult);
      else reject(new Error(`Kafka Streams peer ${workload} exited ${code}: ${err.split('\n').slice(-10).join('\n')}`));
    });
  });
}
