/**
 * The exactly-once transaction loop: one transaction at a time, ended every `commitIntervalMs`, when
 * partitions are revoked and at stop. Each commits the produced outputs with the input offsets that
 * settled (and, at the snapshot interval or when asked, the operator state snapshot that matches
 * them). A commit the broker refuses aborts the transaction and rewinds the input to the committed
 * offsets, so what it held is read and produced again.
 */
import type { KafkaSink } from '../kafka/sink.js';
import type { KafkaSource } from '../kafka/source.js';
import type { StepStates } from '../state/step-states.js';

export interface TransactionLoopOptions {
  readonly sink: KafkaSink;
  /** The source (created after the loop: it calls the loop before a revoke). */
  readonly source: () => KafkaSource<unknown>;
  readonly states: StepStates | null;
  readonly snapshotIntervalMs: number;
  readonly drainTimeoutMs: number;
  readonly log: (message: string) => void;
  /** True once the run has failed: no transaction commits after that. */
  readonly failed: () => boolean;
}

export class TransactionLoop {
  #chain: Promise<void> = Promise.resolve();
  #running = false;
  #finalCommitDone = false;
  #lastSnapshotAtMs = Date.now();
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: TransactionLoopOptions) {}

  /** Commits the running transaction (after any commit already queued); `withSnapshot` forces a state snapshot into it. */
  commit(withSnapshot: boolean): Promise<void> {
    const run = this.#chain.then(() => this.#commitNow(withSnapshot));
    this.#chain = run.catch(() => {});
    return run;
  }

  /** Ends a transaction every `intervalMs` while the run is not stopping. */
  start(intervalMs: number, stopping: () => boolean, fail: (error: Error) => void): void {
    this.#timer = setInterval(() => {
      if (!this.#running && !stopping()) this.commit(false).catch((error: unknown) => fail(error as Error));
    }, intervalMs);
    this.#timer.unref();
  }

  stopTimer(): void {
    clearInterval(this.#timer);
  }

  /**
   * At stop: the last transaction (what settled in the drain, with the last snapshot) unless the run
   * failed; after that no transaction commits, and a failed run's open transaction is aborted.
   */
  async finish(fail: (error: Error) => void): Promise<void> {
    if (!this.o.failed()) {
      try {
        await this.commit(true);
      } catch (error) {
        fail(error as Error);
      }
    }
    this.#finalCommitDone = true;
    if (this.o.failed()) await this.o.sink.abortTransaction(5_000);
    this.o.log(`exactly-once: ${this.o.sink.transactionsCommitted} transactions committed`);
  }

  async #commitNow(withSnapshot: boolean): Promise<void> {
    if (this.#finalCommitDone || this.o.failed()) return;
    const { sink, states, log } = this.o;
    const source = this.o.source();
    this.#running = true;
    try {
      const { offsets, aborted } = await sink.commitTransaction(
        source.transactionConsumer,
        () => source.offsetsToCommit(),
        (offsets) => this.#snapshotInto(offsets, withSnapshot),
        this.o.drainTimeoutMs,
      );
      if (aborted) {
        log('exactly-once: the broker refused a transaction commit (the group rebalanced under it); aborted, and re-reading from the committed offsets');
        // Its changelog writes were aborted with it: the next snapshot writes its chunks again.
        states?.forgetWrites();
        source.rewind();
      } else {
        source.markCommitted(offsets);
      }
    } finally {
      this.#running = false;
    }
  }

  /** The snapshot joins the transaction that commits these offsets (at the interval, or when forced). */
  #snapshotInto(offsets: readonly { partition: number; offset: number }[], force: boolean): void {
    const states = this.o.states;
    if (states === null || states.statefulSteps().length === 0) return;
    if (!force && Date.now() - this.#lastSnapshotAtMs < this.o.snapshotIntervalMs) return;
    const committed = this.o.source().committedPositions();
    for (const { partition, offset } of offsets) committed.set(partition, offset);
    states.snapshot(committed);
    this.#lastSnapshotAtMs = Date.now();
  }
}
