/**
 * Settlement: how an input record's fate travels through a topology.
 *
 * A Kafka offset may be committed only once every record at or below it has met its fate. Operators
 * drop, hold, reorder, fan out and merge records, so each input record gets one `Settlement` handle
 * that travels with it (inside its {@link Envelope}). Whoever ends a record's journey settles the
 * handle exactly once:
 *
 * - the sink, when the broker acknowledges the output record (`'delivered'`);
 * - an operator that deliberately drops it (`'dropped'`);
 * - the dead-letter sink, once the dead letter is acknowledged (`'dead-lettered'`).
 *
 * Fan-out: `split(n)` hands out n child handles; the parent settles when all of them have.
 * Merge: `mergeSettlements(handles)` makes one handle that settles all of its members.
 * Settling a handle twice is a bug in an operator and throws, because a double settle would let the
 * runtime commit past a record whose real output is still in flight.
 */

export type SettlementOutcome = 'delivered' | 'dropped' | 'dead-lettered';

export interface Settlement {
  /** Ends this handle's part of the record's journey. Throws if called twice. */
  settle(outcome: SettlementOutcome): void;
  /** Hands out `count` (≥ 1) child handles; this handle settles once all of them have. */
  split(count: number): readonly Settlement[];
  /** True once this handle has settled. */
  readonly settled: boolean;
}

export class DoubleSettlementError extends Error {
  constructor(what: string) {
    super(`${what} was settled twice: an operator settled a record it had already passed on or settled`);
    this.name = 'DoubleSettlementError';
  }
}

/**
 * A handle that calls `onSettled` exactly once, with the outcome of its last settled part. When the
 * handle was split, the outcome reported is 'delivered' if any part was delivered, else
 * 'dead-lettered' if any part was, else 'dropped' — the most informative fate wins.
 */
export function createSettlement(onSettled: (outcome: SettlementOutcome) => void, label = 'record'): Settlement {
  return new RootSettlement(onSettled, label);
}

/** One handle that settles every member when it settles (records merged into one output). */
export function mergeSettlements(members: readonly Settlement[]): Settlement {
  if (members.length === 1) return members[0]!;
  return new RootSettlement((outcome) => {
    for (const member of members) member.settle(outcome);
  }, `merge of ${members.length} records`);
}

const outcomeRank: Record<SettlementOutcome, number> = { dropped: 0, 'dead-lettered': 1, delivered: 2 };

class RootSettlement implements Settlement {
  #done = false;
  #pendingParts = 0;
  #bestOutcome: SettlementOutcome = 'dropped';

  constructor(
    private readonly onSettled: (outcome: SettlementOutcome) => void,
    private readonly label: string,
  ) {}

  get settled(): boolean {
    return this.#done;
  }

  settle(outcome: SettlementOutcome): void {
    if (this.#done || this.#pendingParts > 0) throw new DoubleSettlementError(this.label);
    this.#done = true;
    this.onSettled(outcome);
  }

  split(count: number): readonly Settlement[] {
    if (!Number.isInteger(count) || count < 1) {
      throw new RangeError(`split(count): count must be an integer ≥ 1, got ${count}`);
    }
    if (this.#done || this.#pendingParts > 0) throw new DoubleSettlementError(this.label);
    this.#pendingParts = count;
    const parts: Settlement[] = [];
    for (let i = 0; i < count; i++) {
      parts.push(
        new RootSettlement((outcome) => this.#partSettled(outcome), `${this.label} (part ${i + 1} of ${count})`),
      );
    }
    return parts;
  }

  #partSettled(outcome: SettlementOutcome): void {
    if (outcomeRank[outcome] > outcomeRank[this.#bestOutcome]) this.#bestOutcome = outcome;
    this.#pendingParts--;
    if (this.#pendingParts === 0) {
      this.#done = true;
      this.onSettled(this.#bestOutcome);
    }
  }
}
