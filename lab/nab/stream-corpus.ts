/**
 * Drives NAB through the real operator: every row of every file becomes a keyed event-time record
 * (key = the file's relative path, event time = the row's timestamp) that goes through
 * `parallelDetect` with one per-key point detector, exactly as a topology would run it. The
 * detector keeps one state per key, so each file is scored from its own earlier rows only.
 *
 * `perKeyDetector` reports only findings at or above its threshold; with threshold 0 every point
 * with a positive score is a finding, and a row without one scored 0.
 */
import { from, lastValueFrom, tap } from 'rxjs';
import { perKeyDetector } from '../../operators/parallel-detect/per-key.js';
import type { DetectorFactory } from '../../operators/parallel-detect/types.js';
import { parallelDetect } from '../../operators/parallel-detect.js';
import { testEnvelope, type Envelope } from '../../core/envelope.js';
import type { DetectorFileScores, NabCorpus } from './types.js';

/** One NAB row as a record on the stream. */
export interface NabPointRecord {
  /** The file's relative path, also the record key. */
  readonly series: string;
  /** Index of the file in the corpus and of the row in the file (where the score goes). */
  readonly fileIndex: number;
  readonly row: number;
  readonly value: number;
}

/** The corpus as envelopes, file after file, rows in file order; made lazily. */
export function* nabEnvelopes(corpus: NabCorpus): Generator<Envelope<NabPointRecord>> {
  let offset = 0;
  for (const [fileIndex, file] of corpus.files.entries()) {
    for (let row = 0; row < file.values.length; row++) {
      const eventTimeMs = file.timestampsMs[row]!;
      yield testEnvelope(
        { series: file.relativePath, fileIndex, row, value: file.values[row]! },
        { key: file.relativePath, eventTimeMs, topic: 'nab', offset: offset++ },
      );
    }
  }
}

export interface StreamedScores {
  readonly scores: DetectorFileScores[];
  /** Wall time of the pass, ms (one core: the whole pass is synchronous JavaScript). */
  readonly elapsedMs: number;
  readonly points: number;
}

/**
 * Scores the whole corpus with one detector through `parallelDetect` and times the pass.
 *
 * @param name the detector's name in findings (its registry name)
 * @param factory makes a fresh point detector; called once per file (per key)
 * @throws Error when a record comes back flagged with a detector failure, or a score is outside [0, 1]
 */
export async function streamCorpusThroughParallelDetect(
  corpus: NabCorpus,
  name: string,
  factory: DetectorFactory,
): Promise<StreamedScores> {
  const scores = corpus.files.map((file) => ({
    relativePath: file.relativePath,
    anomalyScores: new Float64Array(file.values.length),
  }));
  const detector = perKeyDetector<NabPointRecord>({
    detector: factory,
    name,
    fields: ['value'],
    threshold: 0,
    keyOf: (record) => record.series,
    fieldValueOf: (record) => record.value,
    maxKeys: 4,
  });
  let points = 0;
  const startedAt = performance.now();
  await lastValueFrom(
    from(nabEnvelopes(corpus)).pipe(
      parallelDetect({ detectors: [detector], step: `nab.${name}` }),
      tap((envelope) => {
        const { event, findings, error } = envelope.value;
        if (error !== undefined) throw new Error(`${name}: ${event.series} row ${event.row + 1}: ${error}`);
        points++;
        const score = findings[0]?.score ?? 0;
        if (!(score >= 0 && score <= 1)) {
          throw new RangeError(`${name}: ${event.series} row ${event.row + 1}: score ${score} is not in [0, 1]`);
        }
        scores[event.fileIndex]!.anomalyScores[event.row] = score;
        envelope.settlement.settle('delivered');
      }),
    ),
    { defaultValue: undefined },
  );
  const elapsedMs = performance.now() - startedAt;
  return { scores, elapsedMs, points };
}
