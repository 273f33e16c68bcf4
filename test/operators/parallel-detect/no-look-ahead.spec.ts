import { expect } from 'chai';
import { loadNabFixture } from '../../lab/nab/nab-fixture.js';
import { createDetector, detectorNames } from '../../../operators/parallel-detect/index.js';

// A detector that looked ahead would score a point differently depending on what follows it. Feed
// every registered detector a prefix of real NAB series and then the whole series: the scores of
// the prefix must be identical. Real series (a few thousand points) rather than synthetic ones, so
// warm-up, windows and suppression all come into play.
const FILES = ['realKnownCause/ambient_temperature_system_failure.csv', 'artificialWithAnomaly/art_daily_jumpsup.csv'];
const PREFIX_FRACTIONS = [0.2, 0.55];

describe('detectors: no look-ahead on NAB series', () => {
  for (const name of detectorNames) {
    it(`${name}: the scores of a prefix do not change when the rest of the series follows`, async () => {
      const { corpus } = await loadNabFixture();
      for (const relativePath of FILES) {
        const file = corpus.files.find((f) => f.relativePath === relativePath)!;
        const run = (length: number): number[] => {
          const detector = createDetector(name);
          const scores: number[] = [];
          for (let row = 0; row < length; row++) scores.push(detector.score(file.timestampsMs[row]!, file.values[row]!));
          return scores;
        };
        const whole = run(file.values.length);
        for (const fraction of PREFIX_FRACTIONS) {
          const length = Math.floor(fraction * file.values.length);
          expect(run(length), `${relativePath}, first ${length} points`).to.deep.equal(whole.slice(0, length));
        }
      }
    });
  }
});
