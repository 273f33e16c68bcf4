/**
 * The lab's people who label mentions, as a plain class: mentions come in on two lanes, labels come
 * out when event time has advanced far enough and the desk has capacity left.
 *
 * - **fast lane** (`mentions.review`): each mention is looked at `fastDelayMs` of event time after its
 *   window closed (a draw in [min, max]) — "minutes of event time".
 * - **slow lane** (`mentions`): mentions wait for the next review batch; batches come every
 *   `slowBatchEveryMs` of event time (each gap a draw in [min, max], 24–48 h by default) and label
 *   every slow mention whose window closed before the batch.
 * - **capacity**: at most `capacityPerHour` labels per hour of event time (a token bucket holding one
 *   hour's worth); what is due beyond it waits, fast lane first, oldest first.
 * - **verdict**: the ground truth decides (the evaluator's matching rule, incident-match.ts); a share
 *   `unsureShare` of labels is UNSURE and a share `wrongShare` of the rest is flipped, as people err.
 *
 * - **shadow lane** (`mentions.shadow`, {@link LabelDesk.offerShadow}): a share `shadowShare` of shadow
 *   mentions (a draw per mention id) is labelled like the fast lane (a fast delay after its window),
 *   by people of its own: shadow labels take none of the live lanes' capacity, so a shadow changes no
 *   live label. Their labels go to the same topic, labeller `<name>/shadow`; shadow mention ids are
 *   their own (`shadow:<name>:…`), so no live consumer takes them for a live mention's.
 *
 * A mention is labelled at most once: a fast-lane copy and its slow-lane original share a mention id;
 * whichever arrives first, a mention with a fast-lane copy is labelled by the fast lane (unless the
 * slow lane labelled it before the copy came). Every draw of a mention comes
 * from a generator seeded by (seed, mention id), so the same mentions get the same labels whatever
 * order they arrive in. Pending mentions are bounded (`maxPending`; the oldest are dropped, counted).
 */
import { SeededRandom } from '../../core/random.js';
import type { Label, Mention } from '../../schemas/index.js';
import { mentionMatchesIncident, type IncidentWindow } from '../evaluate/incident-match.js';

export type Lane = 'fast' | 'slow';

export interface LabelDeskOptions {
  /** The ground truth's incidents. */
  readonly incidents: readonly IncidentWindow[];
  /** Slack of the matching rule, ms ≥ 0. Default 60 000 (as the evaluator). */
  readonly slackMs?: number;
  /** Event time from a fast-lane mention's window end to its label, [min, max] ms. Default [120 000, 600 000]. */
  readonly fastDelayMs?: readonly [number, number];
  /** Event time between two slow-lane batches, [min, max] ms. Default [86 400 000, 172 800 000] (24–48 h). */
  readonly slowBatchEveryMs?: readonly [number, number];
  /** Labels per hour of event time, > 0 (Infinity: no limit). Default 120. */
  readonly capacityPerHour?: number;
  /** Share of labels that are UNSURE, [0, 1]. Default 0.05. */
  readonly unsureShare?: number;
  /** Share of the other labels whose verdict is wrong, [0, 1]. Default 0.02. */
  readonly wrongShare?: number;
  /** Seed of every draw. Default 1. */
  readonly seed?: number;
  /** The `labeler` field of the labels. Default `lab-labeler`. */
  readonly name?: string;
  /** Mentions waiting for a label, ≥ 1; beyond it the oldest is dropped. Default 100 000. */
  readonly maxPending?: number;
  /** Share of shadow mentions labelled, [0, 1]. Default 0.2. */
  readonly shadowShare?: number;
  /** Told of every live label as it is given, with its mention and lane (for feedback-latency figures). */
  readonly onLabel?: (label: Label, mention: Mention, lane: Lane) => void;
}

export interface LabelDeskCounts {
  offered: Record<Lane, number>;
  /** Offers of a mention already offered (the slow-lane original of a fast-lane copy, a redelivery). */
  duplicates: number;
  labelled: Record<Lane, number>;
  verdicts: Record<Label['verdict'], number>;
  /** Labels whose verdict was flipped on purpose (wrongShare). */
  wrong: number;
  /** Mentions dropped unlabelled because too many were pending. */
  dropped: number;
  /** Labels that waited for capacity after they were due. */
  waitedForCapacity: number;
}

/** Shadow mentions offered, sampled for a label (shadowShare), labelled, and their verdicts. */
export interface ShadowDeskCounts {
  offered: number;
  sampled: number;
  labelled: number;
  verdicts: Record<Label['verdict'], number>;
}

interface Pending {
  readonly mention: Mention;
  readonly lane: Lane;
  /** Event time the label is due (fast lane); slow-lane mentions wait for a batch. */
  readonly dueMs: number;
  readonly sequence: number;
  /** Set when the label was due but the desk had no capacity left: it is given later, when it can be. */
  waited?: boolean;
  /** A shadow mention (labelled on the fast lane's timing, outside the capacity). */
  readonly shadow?: boolean;
}

const HOUR_MS = 3_600_000;

/** Fast lane first, then the order mentions were offered in. */
function byLaneThenArrival(a: Pending, b: Pending): number {
  return a.lane === b.lane ? a.sequence - b.sequence : a.lane === 'fast' ? -1 : 1;
}

function checkRange(name: string, range: readonly [number, number] | undefined, fallback: readonly [number, number]): readonly [number, number] {
  const value = range ?? fallback;
  if (value.length !== 2 || !value.every((x) => Number.isFinite(x) && x >= 0) || value[0] > value[1]) {
    throw new RangeError(`LabelDesk: ${name} must be [min, max] with 0 ≤ min ≤ max (ms), got ${JSON.stringify(range)}`);
  }
  return value;
}

function checkShare(name: string, share: number | undefined, fallback: number): number {
  const value = share ?? fallback;
  if (!(value >= 0 && value <= 1)) throw new RangeError(`LabelDesk: ${name} must be in [0, 1], got ${share}`);
  return value;
}

/** FNV-1a of a string, 32 bits: the per-mention part of a draw's seed. */
function hashOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

export class LabelDesk {
  readonly counts: LabelDeskCounts = {
    offered: { fast: 0, slow: 0 },
    duplicates: 0,
    labelled: { fast: 0, slow: 0 },
    verdicts: { TRUE_POSITIVE: 0, FALSE_POSITIVE: 0, UNSURE: 0 },
    wrong: 0,
    dropped: 0,
    waitedForCapacity: 0,
  };
  readonly shadowCounts: ShadowDeskCounts = { offered: 0, sampled: 0, labelled: 0, verdicts: { TRUE_POSITIVE: 0, FALSE_POSITIVE: 0, UNSURE: 0 } };
  readonly #incidents: readonly IncidentWindow[];
  readonly #slackMs: number;
  readonly #fastDelayMs: readonly [number, number];
  readonly #slowBatchEveryMs: readonly [number, number];
  readonly #capacityPerHour: number;
  readonly #unsureShare: number;
  readonly #wrongShare: number;
  readonly #shadowShare: number;
  readonly #seed: number;
  readonly #name: string;
  readonly #maxPending: number;
  readonly #onLabel: LabelDeskOptions['onLabel'];
  /** Ids offered so far (bounded like pending: ids older than the pending window are forgotten). */
  readonly #seen = new Set<string>();
  readonly #pending = new Map<string, Pending>();
  readonly #batchRandom: SeededRandom;
  #sequence = 0;
  #nowMs = -Infinity;
  #nextBatchMs: number | undefined;
  /** Slow-lane mentions whose window closed by this event time are in a closed batch. */
  #batchedUntilMs = -Infinity;
  #tokens: number;
  #tokensAtMs: number | undefined;

  constructor(options: LabelDeskOptions) {
    this.#incidents = options.incidents;
    this.#slackMs = options.slackMs ?? 60_000;
    if (!(this.#slackMs >= 0)) throw new RangeError(`LabelDesk: slackMs must be ≥ 0, got ${options.slackMs}`);
    this.#fastDelayMs = checkRange('fastDelayMs', options.fastDelayMs, [120_000, 600_000]);
    this.#slowBatchEveryMs = checkRange('slowBatchEveryMs', options.slowBatchEveryMs, [86_400_000, 172_800_000]);
    if (this.#slowBatchEveryMs[0] <= 0) throw new RangeError('LabelDesk: slowBatchEveryMs must be > 0');
    this.#capacityPerHour = options.capacityPerHour ?? 120;
    if (!(this.#capacityPerHour > 0)) throw new RangeError(`LabelDesk: capacityPerHour must be > 0 (Infinity: no limit), got ${options.capacityPerHour}`);
    this.#unsureShare = checkShare('unsureShare', options.unsureShare, 0.05);
    this.#wrongShare = checkShare('wrongShare', options.wrongShare, 0.02);
    this.#shadowShare = checkShare('shadowShare', options.shadowShare, 0.2);
    this.#seed = options.seed ?? 1;
    if (!Number.isInteger(this.#seed)) throw new RangeError(`LabelDesk: seed must be an integer, got ${options.seed}`);
    this.#name = options.name ?? 'lab-labeler';
    this.#maxPending = options.maxPending ?? 100_000;
    if (!(Number.isInteger(this.#maxPending) && this.#maxPending >= 1)) throw new RangeError(`LabelDesk: maxPending must be an integer ≥ 1, got ${options.maxPending}`);
    this.#onLabel = options.onLabel;
    this.#batchRandom = SeededRandom.fromSeed(this.#seed);
    this.#tokens = Number.isFinite(this.#capacityPerHour) ? this.#capacityPerHour : Infinity;
  }

  /** Mentions waiting for their label. */
  get pending(): number {
    return this.#pending.size;
  }

  /** The event time the desk has reached (the latest `advanceTo`). */
  get nowMs(): number {
    return this.#nowMs;
  }

  /** Takes a mention on a lane; false when it was offered before (it keeps its first lane). */
  offer(mention: Mention, lane: Lane): boolean {
    if (mention.shadow) return false;
    if (this.#seen.has(mention.mention_id)) {
      this.counts.duplicates++;
      // The fast-lane copy of a mention still waiting on the slow lane moves it to the fast lane.
      const waiting = this.#pending.get(mention.mention_id);
      if (lane === 'fast' && waiting?.lane === 'slow') {
        this.#pending.set(mention.mention_id, { ...waiting, lane, dueMs: mention.window_end + this.#between(this.#fastDelayMs, this.#drawsOf(mention.mention_id).delay) });
        this.counts.offered.slow--;
        this.counts.offered.fast++;
      }
      return false;
    }
    this.#seen.add(mention.mention_id);
    this.counts.offered[lane]++;
    const draws = this.#drawsOf(mention.mention_id);
    const dueMs = lane === 'fast' ? mention.window_end + this.#between(this.#fastDelayMs, draws.delay) : Infinity;
    if (lane === 'slow' && this.#nextBatchMs === undefined) this.#nextBatchMs = mention.window_end + this.#between(this.#slowBatchEveryMs, this.#batchRandom.nextFloat());
    this.#pending.set(mention.mention_id, { mention, lane, dueMs, sequence: this.#sequence++ });
    while (this.#pending.size > this.#maxPending) {
      const oldest = this.#pending.keys().next().value as string;
      this.#pending.delete(oldest);
      this.counts.dropped++;
    }
    // Forget ids far behind what is pending: a redelivery that old is not expected.
    if (this.#seen.size > 4 * this.#maxPending) {
      for (const id of this.#seen) {
        if (this.#seen.size <= 2 * this.#maxPending) break;
        if (!this.#pending.has(id)) this.#seen.delete(id);
      }
    }
    return true;
  }

  /** Takes a shadow mention; true when it is sampled for a label (a share `shadowShare`, drawn per mention id). */
  offerShadow(mention: Mention): boolean {
    if (!mention.shadow || this.#seen.has(mention.mention_id)) return false;
    this.#seen.add(mention.mention_id);
    this.shadowCounts.offered++;
    const draws = this.#drawsOf(mention.mention_id);
    if (!(draws.sample < this.#shadowShare)) return false;
    this.shadowCounts.sampled++;
    this.#pending.set(mention.mention_id, { mention, lane: 'fast', shadow: true, dueMs: mention.window_end + this.#between(this.#fastDelayMs, draws.delay), sequence: this.#sequence++ });
    while (this.#pending.size > this.#maxPending) {
      const oldest = this.#pending.keys().next().value as string;
      this.#pending.delete(oldest);
      this.counts.dropped++;
    }
    return true;
  }

  /** Moves event time to `nowMs` (never back) and returns the labels given by then. */
  advanceTo(nowMs: number): Label[] {
    // Never back; the same time again still gives what has fallen due since (a lagging lane's mention).
    if (nowMs < this.#nowMs) nowMs = this.#nowMs;
    this.#refill(nowMs);
    this.#nowMs = nowMs;
    const batchAt = this.#closeBatches(nowMs);
    if (batchAt !== undefined) this.#batchedUntilMs = batchAt;
    const due = [...this.#pending.values()]
      .filter((p) => (p.lane === 'fast' ? p.dueMs <= nowMs : p.mention.window_end <= this.#batchedUntilMs))
      .sort(byLaneThenArrival);
    // A label is given when it falls due (whenever the desk saw its mention: the two lanes are read
    // independently, so one may lag the other); one that waited for capacity is given now.
    return this.#give(due, (p) => (p.waited ? nowMs : p.lane === 'fast' ? p.dueMs : this.#batchedUntilMs));
  }

  /**
   * End of input: labels every pending mention (a fast-lane one at its due time or now, whichever is
   * later; a slow-lane one in a last batch), capacity aside. The lab calls it when the stream is over.
   */
  flush(): Label[] {
    const due = [...this.#pending.values()].sort(byLaneThenArrival);
    const nowMs = Number.isFinite(this.#nowMs) ? this.#nowMs : 0;
    const tokens = this.#tokens;
    this.#tokens = Infinity;
    const labels = this.#give(due, (p) => (p.lane === 'fast' && !p.waited ? p.dueMs : nowMs));
    this.#tokens = tokens;
    return labels;
  }

  #give(due: readonly Pending[], givenAt: (pending: Pending) => number): Label[] {
    const labels: Label[] = [];
    // Shadow labels first and outside the capacity: the live lanes' labels are what they would be without them.
    for (const pending of due.filter((p) => p.shadow === true)) {
      this.#pending.delete(pending.mention.mention_id);
      labels.push(this.#label(pending, givenAt(pending)));
    }
    const live = due.filter((p) => p.shadow !== true);
    let given = 0;
    for (const pending of live) {
      if (this.#tokens < 1) {
        for (const waiting of live.slice(given)) {
          if (!waiting.waited) this.counts.waitedForCapacity++;
          waiting.waited = true;
        }
        break;
      }
      given++;
      this.#tokens -= 1;
      this.#pending.delete(pending.mention.mention_id);
      labels.push(this.#label(pending, givenAt(pending)));
    }
    return labels;
  }

  #label(pending: Pending, labeledAt: number): Label {
    const { mention, lane } = pending;
    const draws = this.#drawsOf(mention.mention_id);
    const isTrue = this.#incidents.some((incident) => mentionMatchesIncident(mention, incident, this.#slackMs));
    let verdict: Label['verdict'];
    if (draws.unsure < this.#unsureShare) verdict = 'UNSURE';
    else {
      const wrong = draws.wrong < this.#wrongShare;
      if (wrong) this.counts.wrong++;
      verdict = isTrue !== wrong ? 'TRUE_POSITIVE' : 'FALSE_POSITIVE';
    }
    if (pending.shadow === true) {
      this.shadowCounts.labelled++;
      this.shadowCounts.verdicts[verdict]++;
      return { mention_id: mention.mention_id, labeled_at: Math.round(labeledAt), verdict, labeler: `${this.#name}/shadow`, note: 'shadow lane' };
    }
    this.counts.labelled[lane]++;
    this.counts.verdicts[verdict]++;
    const label: Label = { mention_id: mention.mention_id, labeled_at: Math.round(labeledAt), verdict, labeler: `${this.#name}/${lane}`, note: `${lane} lane` };
    this.#onLabel?.(label, mention, lane);
    return label;
  }

  /** Closes the slow-lane batches due by `nowMs`; returns the latest batch's time, if one closed. */
  #closeBatches(nowMs: number): number | undefined {
    let closed: number | undefined;
    while (this.#nextBatchMs !== undefined && this.#nextBatchMs <= nowMs) {
      closed = this.#nextBatchMs;
      this.#nextBatchMs += this.#between(this.#slowBatchEveryMs, this.#batchRandom.nextFloat());
    }
    return closed;
  }

  #refill(nowMs: number): void {
    if (!Number.isFinite(this.#capacityPerHour)) return;
    if (this.#tokensAtMs !== undefined) {
      this.#tokens = Math.min(this.#capacityPerHour, this.#tokens + ((nowMs - this.#tokensAtMs) / HOUR_MS) * this.#capacityPerHour);
    }
    this.#tokensAtMs = nowMs;
  }

  #between(range: readonly [number, number], u: number): number {
    return range[0] + u * (range[1] - range[0]);
  }

  #drawsOf(mentionId: string): { delay: number; unsure: number; wrong: number; sample: number } {
    const random = SeededRandom.fromSeed(hashOf(mentionId) ^ this.#seed);
    return { delay: random.nextFloat(), unsure: random.nextFloat(), wrong: random.nextFloat(), sample: random.nextFloat() };
  }
}
