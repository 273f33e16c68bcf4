/**
 * Episodes: a continuing anomaly of one key and field, told once. A detector that keeps alarming on
 * one model × segment × field × direction emits a mention per dedup window; counted per mention, one
 * long false alarm weighs as much as dozens of distinct ones, and one long true alarm hides several
 * false ones. Counted per episode, each continuing alarm counts once.
 *
 * An episode is a run of mentions of one model × segment × field × direction in which each mention's
 * window starts at most `gapMs` after the latest window end of the mentions before it in the run.
 * Default gap: 120 000 ms, one dedup window (60 s) of silence plus the evaluator's 60 s slack, so a
 * key that misses up to two windows in a row is still the same episode. Shadow mentions are left out
 * by the caller.
 */
import type { Mention } from '../../schemas/index.js';

/** Default largest quiet stretch inside one episode, ms: one dedup window (60 s) plus the 60 s slack. */
export const DEFAULT_EPISODE_GAP_MS = 120_000;

export interface Episode {
  readonly model_id: string;
  readonly segment: string;
  readonly field: string;
  readonly direction: string;
  /** Earliest window start and latest window end of its mentions, event time, ms. */
  readonly start: number;
  readonly end: number;
  /** Its mentions, by window start. */
  readonly mentions: readonly Mention[];
}

/** Splits `mentions` into episodes (see the module comment), ordered by key, then start. */
export function splitEpisodes(mentions: readonly Mention[], gapMs = DEFAULT_EPISODE_GAP_MS): Episode[] {
  if (!(gapMs >= 0) || !Number.isFinite(gapMs)) throw new RangeError(`splitEpisodes: gapMs must be a finite number ≥ 0, got ${gapMs}`);
  const byKey = new Map<string, Mention[]>();
  for (const m of mentions) {
    const key = JSON.stringify([m.model_id, m.segment, m.field, m.direction]);
    const list = byKey.get(key);
    if (list === undefined) byKey.set(key, [m]);
    else list.push(m);
  }
  const episodes: Episode[] = [];
  for (const key of [...byKey.keys()].sort()) {
    const sorted = [...byKey.get(key)!].sort((a, b) => a.window_start - b.window_start || a.window_end - b.window_end);
    let current: Mention[] = [];
    let start = 0;
    let end = -Infinity;
    const close = (): void => {
      if (current.length === 0) return;
      const first = current[0]!;
      episodes.push({ model_id: first.model_id, segment: first.segment, field: first.field, direction: first.direction, start, end, mentions: current });
    };
    for (const m of sorted) {
      if (current.length > 0 && m.window_start - end <= gapMs) {
        current.push(m);
        end = Math.max(end, m.window_end);
        continue;
      }
      close();
      current = [m];
      start = m.window_start;
      end = m.window_end;
    }
    close();
  }
  return episodes;
}
