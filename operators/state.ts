/**
 * The state handle of a stateful operator: how its state leaves the process as plain data (a later
 * issue keeps it in changelog topics across restarts and rebalances) and comes back.
 *
 * Pass a handle as the operator's `state` option. Once the operator is subscribed, `snapshot()`
 * returns its restorable state as plain JSON-serialisable data (`JSON.parse(JSON.stringify(s))`
 * restores to the same thing); `restore(s)` puts such a snapshot back. A `restore` called before the
 * subscription is held and applied when the operator subscribes, so a restart reads:
 *
 * ```ts
 * const state = new OperatorStateHandle();
 * state.restore(await changelog.latest('sample'));   // before subscribing
 * input.pipe(adaptiveSample({ …, state }));            // subscribes: the snapshot is applied first
 * // …at each commit: await changelog.write('sample', state.snapshot());
 * ```
 *
 * What a snapshot holds is the state that outlives the records in flight. Records an operator holds
 * (reservoirs, queues, open mentions) are not in it: their offsets are not committed, so after a
 * restart they are read again and rebuild that state. Each operator's doc comment says what its
 * snapshot holds. A handle follows the latest subscription it was passed to, like `PartitionProbe`.
 */

/** A snapshot as the operators write it: a version and plain data. */
export interface OperatorSnapshot {
  /** The operator that wrote it (`adaptiveSample`, …); restore checks it. */
  readonly operator: string;
  /** Format version; restore rejects versions it does not know. */
  readonly version: number;
  readonly [field: string]: unknown;
}

export class OperatorStateHandle {
  #snapshot: (() => OperatorSnapshot) | undefined;
  #restore: ((state: OperatorSnapshot) => void) | undefined;
  #pending: OperatorSnapshot | undefined;

  /** True once an operator has attached to this handle (it has been subscribed). */
  get attached(): boolean {
    return this.#snapshot !== undefined;
  }

  /** The operator's restorable state, as plain JSON-serialisable data. Throws before subscription. */
  snapshot(): OperatorSnapshot {
    if (this.#snapshot === undefined) throw new Error('OperatorStateHandle: snapshot() before the operator was subscribed');
    return this.#snapshot();
  }

  /** Restores a snapshot now, or when the operator subscribes if it has not yet. */
  restore(state: unknown): void {
    const checked = checkSnapshot(state);
    if (this.#restore === undefined) this.#pending = checked;
    else this.#restore(checked);
  }

  /** @internal called by the operator on subscribe; applies a restore that came before it. */
  attach(operator: string, snapshot: () => OperatorSnapshot, restore: (state: OperatorSnapshot) => void): void {
    const guarded = (state: OperatorSnapshot): void => {
      if (state.operator !== operator) {
        throw new TypeError(`${operator}: cannot restore a snapshot written by ${state.operator}`);
      }
      restore(state);
    };
    this.#snapshot = snapshot;
    this.#restore = guarded;
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending !== undefined) guarded(pending);
  }
}

function checkSnapshot(state: unknown): OperatorSnapshot {
  if (
    typeof state !== 'object' ||
    state === null ||
    typeof (state as { operator?: unknown }).operator !== 'string' ||
    typeof (state as { version?: unknown }).version !== 'number'
  ) {
    throw new TypeError(`OperatorStateHandle: restore() needs a snapshot { operator, version, … }, got ${JSON.stringify(state)}`);
  }
  return state as OperatorSnapshot;
}

/** Checks a `state` option at factory time. */
export function assertStateHandle(state: unknown, optionName: string): void {
  if (state !== undefined && !(state instanceof OperatorStateHandle)) {
    throw new TypeError(`${optionName} must be an OperatorStateHandle (new OperatorStateHandle()), got ${String(state)}`);
  }
}

/** Throws unless `state` is version `version` of `operator`'s snapshot. */
export function assertSnapshotVersion(state: OperatorSnapshot, operator: string, version: number): void {
  if (state.version !== version) {
    throw new RangeError(`${operator}: snapshot version ${state.version} is not supported (this build reads version ${version})`);
  }
}
