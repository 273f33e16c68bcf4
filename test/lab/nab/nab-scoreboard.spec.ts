import { expect } from 'chai';
import {
  buildScoreboard,
  formatScoreboardMarkdown,
  formatScoreboardText,
  readPublishedFinalScores,
  resolveNabDataDir,
  toNabFinalScores,
  type ProfileScore,
} from '../../../lab/nab/index.js';

const score = (profile: string, normalizedScore: number): ProfileScore => ({
  profile,
  threshold: 0.5,
  rawScore: 0,
  normalizedScore,
  nullRawScore: -116,
  perfectRawScore: 116,
});

const published = {
  numenta: { standard: 70.10105611943965, reward_low_FP_rate: 63.11684160219828, reward_low_FN_rate: 74.3202443095115 },
  null: { standard: 0, reward_low_FP_rate: 0, reward_low_FN_rate: 0 },
};

describe('NAB scoreboard', () => {
  it('writes our evaluations in the shape of NAB’s final_results.json', () => {
    const evaluations = {
      ewma: { standard: score('standard', 41.5), reward_low_FP_rate: score('reward_low_FP_rate', 30), reward_low_FN_rate: score('reward_low_FN_rate', 50) },
    };
    expect(toNabFinalScores(evaluations)).to.deep.equal({
      ewma: { standard: 41.5, reward_low_FP_rate: 30, reward_low_FN_rate: 50 },
    });
  });

  it('ranks ours among the published detectors by standard score, ours in bold', () => {
    const ours = { 'ewma|mad': { standard: 41.456, reward_low_FP_rate: 30.004, reward_low_FN_rate: 49.996 } };
    const markdown = formatScoreboardMarkdown(buildScoreboard(ours, published));
    expect(markdown).to.equal(
      [
        '| # | Detector | Source | Standard | Low FP | Low FN |',
        '| ---: | :--- | :--- | ---: | ---: | ---: |',
        '| 1 | numenta | published | 70.10 | 63.12 | 74.32 |',
        '| 2 | **ewma\\|mad** | ours | 41.46 | 30.00 | 50.00 |',
        '| 3 | null | published | 0.00 | 0.00 | 0.00 |',
        '',
      ].join('\n'),
    );
  });

  it('prints an aligned text table with ours marked', () => {
    const ours = { ewma: { standard: 41.456, reward_low_FP_rate: 30, reward_low_FN_rate: -5 } };
    expect(formatScoreboardText(buildScoreboard(ours, published))).to.equal(
      [
        '#  Detector   Standard  Low FP  Low FN',
        '1    numenta     70.10   63.12   74.32',
        '2  * ewma        41.46   30.00   -5.00',
        '3    null         0.00    0.00    0.00',
        '',
      ].join('\n'),
    );
  });

  it('refuses a detector with a profile missing', () => {
    expect(() => buildScoreboard({ half: { standard: 10 } }, published)).to.throw(
      'ours detector "half" has no finite reward_low_FP_rate score',
    );
  });

  it('lays out the whole published scoreboard, ARTime first and null last', async () => {
    const rows = buildScoreboard({}, await readPublishedFinalScores(resolveNabDataDir()));
    expect(rows).to.have.length(15);
    expect(rows[0]?.detector).to.equal('ARTime');
    expect(rows.at(-1)?.detector).to.equal('null');
    expect(formatScoreboardMarkdown(rows)).to.contain('| 11 | windowedGaussian | published | 39.65 | 20.87 | 47.41 |');
  });
});
