/**
 * The lifecycle of one assigned input partition, as an explicit state machine: the states, the events
 * that move between them, and which moves are allowed, in one table. A move the table does not allow
 * throws {@link IllegalPartitionTransitionError}: a rebalance or rewind arriving in an order the source
 * was not written for stops the run instead of silently committing the wrong offsets.
 *
 * ```
 *                 assign
 *                   │
 *                   ▼
 *   ┌──────────► restoring ──prepared──► active ◄──seek-issued── rewinding ◄─┐
 *   │               │                     │ └──────rewind──────────►│ └─rewind┘
 *   │             revoke                revoke                    revoke
 *   │    (exactly-once: begin-revoke)     │                         │
 *   │               ▼                     ▼                         ▼
 *   │            revoking ◄────────────────────────────────────────┘ (rewind keeps it revoking)
 *   │               │
 *   │            release                  (restoring, active and rewinding may also be released
 *   │               ▼                      at once: at-least-once revokes do not wait)
 *   └─(new id)── released
 * ```
 *
 * - `restoring`: assigned, paused, being prepared (completed-ahead records read, operator state
 *   restored); records fetched meanwhile are held and handled, in order, once prepared.
 * - `active`: records are handled, tracked and committed.
 * - `rewinding`: exactly-once, after an aborted transaction: a seek back to the committed offset is
 *   pending; records fetched until the consume loop issues it are dropped (they are read again).
 * - `revoking`: exactly-once, being revoked: the running transaction commits what settled, then the
 *   partition is let go; records fetched now are left to the next owner, abandoned outputs settle at release.
 * - `released`: let go; nothing of it is fetched, handled or committed here again. A later assignment
 *   of the same partition is a new lifecycle (and a new assignment id).
 */

export type PartitionState = 'restoring' | 'active' | 'rewinding' | 'revoking' | 'released';

export type PartitionEvent = 'prepared' | 'rewind' | 'seek-issued' | 'begin-revoke' | 'release';

/** Every allowed move: state → event → next state. Anything missing here is illegal. */
export const PARTITION_TRANSITIONS: Readonly<Record<PartitionState, Readonly<Partial<Record<PartitionEvent, PartitionState>>>>> = {
  restoring: { prepared: 'active', 'begin-revoke': 'revoking', release: 'released' },
  active: { rewind: 'rewinding', 'begin-revoke': 'revoking', release: 'released' },
  rewinding: { 'seek-issued': 'active', rewind: 'rewinding', 'begin-revoke': 'revoking', release: 'released' },
  revoking: { rewind: 'revoking', release: 'released' },
  released: {},
};

/** What the source does with a record fetched from a partition in each state. */
export type RecordAction = 'handle' | 'hold' | 'drop';

export const RECORD_ACTION: Readonly<Record<PartitionState, RecordAction>> = {
  restoring: 'hold',
  active: 'handle',
  rewinding: 'drop',
  revoking: 'drop',
  released: 'drop',
};

/** The state a new assignment starts in: prepared before its first record is handled. */
export const INITIAL_PARTITION_STATE: PartitionState = 'restoring';

export class IllegalPartitionTransitionError extends Error {
  constructor(
    readonly partition: number,
    readonly from: PartitionState,
    readonly event: PartitionEvent,
  ) {
    const allowed = Object.keys(PARTITION_TRANSITIONS[from]);
    super(`partition ${partition}: '${event}' is not allowed in state '${from}' (allowed: ${allowed.length === 0 ? 'none' : allowed.join(', ')})`);
    this.name = 'IllegalPartitionTransitionError';
  }
}

/** The state after `event` in `state`, or null when the move is not allowed. */
export function nextPartitionState(state: PartitionState, event: PartitionEvent): PartitionState | null {
  return PARTITION_TRANSITIONS[state][event] ?? null;
}

/** One partition's current state; every change goes through {@link PartitionLifecycle.apply}. */
export class PartitionLifecycle {
  #state: PartitionState = INITIAL_PARTITION_STATE;

  constructor(readonly partition: number) {}

  get state(): PartitionState {
    return this.#state;
  }

  /** Moves on `event`; throws {@link IllegalPartitionTransitionError} when the table does not allow it. */
  apply(event: PartitionEvent): PartitionState {
    const next = nextPartitionState(this.#state, event);
    if (next === null) throw new IllegalPartitionTransitionError(this.partition, this.#state, event);
    this.#state = next;
    return next;
  }

  /** What to do with a record fetched now. */
  get recordAction(): RecordAction {
    return RECORD_ACTION[this.#state];
  }
}
