/**
 * When a mention is about an incident of the ground truth: model, segment and field agree and the
 * mention's event-time window [window_start, window_end) overlaps the incident's [start − slack,
 * end + slack). The evaluator (score-mentions.ts) and the lab's labeler decide with this one rule, so a
 * label and a score never disagree about what is true.
 */
import type { Mention } from '../../schemas/index.js';

/** The part of a ground-truth incident the rule reads. */
export interface IncidentWindow {
  readonly model_id: string;
  readonly segment: string;
  readonly field: string;
  readonly start: number;
  readonly end: number;
}

/** The part of a mention the rule reads. */
export type MentionWindow = Pick<Mention, 'model_id' | 'segment' | 'field' | 'window_start' | 'window_end'>;

export function mentionMatchesIncident(mention: MentionWindow, incident: IncidentWindow, slackMs: number): boolean {
  return (
    mention.model_id === incident.model_id &&
    mention.segment === incident.segment &&
    mention.field === incident.field &&
    mention.window_start < incident.end + slackMs &&
    mention.window_end > incident.start - slackMs
  );
}
