/**
 * Shared pieces of the chaos suite (`npm run test:chaos`, and `npm test` at CI size): the size, a
 * paced feed of InferenceEvents that keeps flowing while faults happen, the loss/duplicate tally, and
 * the one-line figures every scenario prints.
 *
 * Sizes: `CHAOS_SIZE=full` runs the numbers (20 kills over 200k records, 10k poison records,
 * …); anything else runs the CI size, which keeps the whole suite within ~5 minutes on a loaded
 * 2-core machine. Tests assert outcomes (nothing lost, everything dead-lettered, bounds held), never
 * timings; times are printed as figures.
 */
import { InferenceEventContract, type InferenceEvent } from '../../../schemas/index.js';
import { generateInferenceEvents } from '../../../lab/generator/simple-stream.js';
import { ensureTopics } from '../../../runtime/kafka/admin.js';
import { writeTopic } from '../../../runtime/kafka/topic-writer.js';
import { readEvents, sleep } from '../../support/kafka-fixtures.js';

export const CHAOS_SIZE: 'ci' | 'full' = process.env['CHAOS_SIZE'] === 'full' ? 'full' : 'ci';

/** Picks the CI or the full-size value of a parameter. */
export function sized<T>(ci: T, full: T): T {
  return CHAOS_SIZE === 'full' ? full : ci;
}

/** Prints a scenario's figures on one line a human reads in the test output. */
export function figures(scenario: string, values: Readonly<Record<string, string | number>>): void {
  const text = Object.entries(values)
    .map(([name, value]) => `${name} ${value}`)
    .join(' · ');
  console.log(`      chaos ${scenario} [${CHAOS_SIZE}]: ${text}`);
}

export interface Feed {
  /** Every event, in the order written (ids are unique). */
  readonly events: readonly InferenceEvent[];
  /** Resolves once every event is acknowledged by the broker. */
  readonly done: Promise<number>;
  /** Events handed to the producer so far. */
  written(): number;
}

/**
 * Writes `count` generated events to `topic` (4 partitions) at about `ratePerSecond`, in slices of
 * 1/20 s, with one idempotent producer: records keep arriving while the scenario injects its faults,
 * and a broker outage only delays them.
 */
export async function pacedFeed(brokers: string, topic: string, count: number, ratePerSecond: number, seed = 1): Promise<Feed> {
  await ensureTopics(brokers, [{ topic, partitions: 4 }]);
  const events = [...generateInferenceEvents({ count, seed }).events];
  let written = 0;
  const perSlice = Math.max(1, Math.round(ratePerSecond / 20));
  async function* paced(): AsyncGenerator<InferenceEvent> {
    const startedAt = Date.now();
    for (const event of events) {
      yield event;
      written++;
      if (written % perSlice === 0) {
        const dueAt = startedAt + (written / ratePerSecond) * 1000;
        const waitMs = dueAt - Date.now();
        if (waitMs > 0) await sleep(waitMs);
      }
    }
  }
  const done = writeTopic(paced(), { brokers, topic, contract: InferenceEventContract, flushEvery: 10_000_000 });
  return { events, done, written: () => written };
}

export interface Tally {
  readonly inputs: number;
  readonly outputs: number;
  readonly lost: number;
  readonly duplicates: number;
  /** A few lost ids, for the assertion message. */
  readonly lostSample: readonly string[];
}

/** Which input ids are missing from `outputTopic`, and how many outputs repeat an id. */
export async function tally(brokers: string, inputIds: Iterable<string>, outputTopic: string): Promise<Tally> {
  const seen = new Map<string, number>();
  let outputs = 0;
  for (const { event } of await readEvents(brokers, outputTopic)) {
    outputs++;
    seen.set(event.event_id, (seen.get(event.event_id) ?? 0) + 1);
  }
  let inputs = 0;
  const lost: string[] = [];
  for (const id of inputIds) {
    inputs++;
    if (!seen.has(id)) lost.push(id);
  }
  return { inputs, outputs, lost: lost.length, duplicates: outputs - seen.size, lostSample: lost.slice(0, 5) };
}

/** Polls `check` every 100 ms until it returns true; fails with `what` after `timeoutMs`. */
export async function waitUntil(what: string, timeoutMs: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(100);
  }
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
export const megabytes = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
