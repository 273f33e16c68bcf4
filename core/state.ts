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
 *
 * Partitions: the runner keeps an instance's snapshot under each input partition it holds and passes
 * the partitions a snapshot is restored for (`restore(s, partitions)`); an operator whose snapshot
 * tags what it holds by input partition takes only theirs, the others ignore them.
 *
 * Merge: an instance that already holds state when partitions come to it cannot restore (that would
 * replace what it holds). An operator whose snapshot merges soundly into live state (a union of facts,
 * not counts that would be added twice) passes a `merge` to `attach`; the runner then merges the
 * snapshots of the partitions it is given (`mergeable`, `merge(s, partitions)`). Today that is
 * windowedDedup's emitted (cluster, window) pairs; every other operator keeps its own state.
 */

/** A snapshot as the operators write it: a version and plain data. */
export interface OperatorSnapshot {
  /** The operator that wrote it (`adaptiveSample`, …); restore checks it. */
  readonly operator: string;
  /** Format version; restore rejects versions it does not know. */
  readonly version: number;
  readonly [field: string]: unknown;
}

/** Applies a snapshot; `partitions`: the input partitions it is applied for (undefined: all). */
export type ApplySnapshot = (state: OperatorSnapshot, partitions: readonly number[] | undefined) => void;

export class OperatorStateHandle {
  #snapshot: (() => OperatorSnapshot) | undefined;
  #restore: ApplySnapshot | undefined;
  #merge: ApplySnapshot | undefined;
  #pending: { readonly state: OperatorSnapshot; readonly partitions: readonly number[] | undefined } | undefined;

  /** True once an operator has attached to this handle (it has been subscribed). */
  get attached(): boolean {
    return this.#snapshot !== undefined;
  }

  /** The operator's restorable state, as plain JSON-serialisable data. Throws before subscription. */
  snapshot(): OperatorSnapshot {
    if (this.#snapshot === undefined) throw new Error('OperatorStateHandle: snapshot() before the operator was subscribed');
    return this.#snapshot();
  }

  /** True once the attached operator can merge a snapshot into the state it holds. */
  get mergeable(): boolean {
    return this.#merge !== undefined;
  }

  /**
   * Restores a snapshot now, or when the operator subscribes if it has not yet. `partitions`: the
   * input partitions it is restored for (default: all it holds).
   */
  restore(state: unknown, partitions?: readonly number[]): void {
    const checked = checkSnapshot(state);
    if (this.#restore === undefined) this.#pending = { state: checked, partitions };
    else this.#restore(checked, partitions);
  }

  /**
   * Merges a snapshot (of `partitions`, default all) into the state the operator holds. Throws unless
   * the operator is subscribed and `mergeable`.
   */
  merge(state: unknown, partitions?: readonly number[]): void {
    if (this.#merge === undefined) throw new Error('OperatorStateHandle: merge() needs a subscribed operator that merges (see mergeable)');
    this.#merge(checkSnapshot(state), partitions);
  }

  /**
   * @internal called by the operator on subscribe; applies a restore that came before it. `merge`:
   * only for operators whose snapshot merges soundly into live state (see the file comment).
   */
  attach(operator: string, snapshot: () => OperatorSnapshot, restore: ApplySnapshot, merge?: ApplySnapshot): void {
    const guard =
      (apply: ApplySnapshot): ApplySnapshot =>
      (state, partitions) => {
        if (state.operator !== operator) {
          throw new TypeError(`${operator}: cannot restore a snapshot written by ${state.operator}`);
        }
        apply(state, partitions);
      };
    this.#snapshot = snapshot;
    this.#restore = guard(restore);
    this.#merge = merge === undefined ? undefined : guard(merge);
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending !== undefined) this.#restore(pending.state, pending.partitions);
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

/** Throws unless `state` is version `version` (or one of `versions`) of `operator`'s snapshot. */
export function assertSnapshotVersion(state: OperatorSnapshot, operator: string, version: number | readonly number[]): void {
  const versions = typeof version === 'number' ? [version] : version;
  if (!versions.includes(state.version)) {
    throw new RangeError(`${operator}: snapshot version ${state.version} is not supported (this build reads version ${versions.join(' or ')})`);
  }
}
