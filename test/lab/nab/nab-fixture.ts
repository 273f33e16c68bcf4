// The NAB corpus takes about a second to read and lay out, so every spec in this folder shares one
// copy per mocha run. Nothing here copies the data into the project; it is read in place.
import path from 'node:path';
import {
  buildCorpusScoringLayouts,
  readDetectorResults,
  readNabCorpus,
  readNabProfiles,
  readPublishedFinalScores,
  readPublishedThresholds,
  resolveNabDataDir,
  type DetectorFileScores,
  type FileScoringLayout,
  type NabCorpus,
  type NabFinalScores,
  type NabProfile,
  type NabThresholds,
} from '../../../lab/nab/index.js';

export interface NabFixture {
  readonly dataDir: string;
  readonly corpus: NabCorpus;
  readonly layouts: readonly FileScoringLayout[];
  readonly profiles: readonly NabProfile[];
  readonly publishedThresholds: NabThresholds;
  readonly publishedFinalScores: NabFinalScores;
  /** A published detector's outputs from `reference-results/`, read once. */
  referenceResults(detector: string): Promise<readonly DetectorFileScores[]>;
}

let fixture: Promise<NabFixture> | undefined;

export function loadNabFixture(): Promise<NabFixture> {
  fixture ??= (async () => {
    const dataDir = resolveNabDataDir();
    const [corpus, profiles, publishedThresholds, publishedFinalScores] = await Promise.all([
      readNabCorpus(dataDir),
      readNabProfiles(dataDir),
      readPublishedThresholds(dataDir),
      readPublishedFinalScores(dataDir),
    ]);
    const layouts = buildCorpusScoringLayouts(corpus);
    const results = new Map<string, Promise<DetectorFileScores[]>>();
    return {
      dataDir,
      corpus,
      layouts,
      profiles,
      publishedThresholds,
      publishedFinalScores,
      referenceResults(detector) {
        let loaded = results.get(detector);
        if (loaded === undefined) {
          loaded = readDetectorResults(path.join(dataDir, 'reference-results'), detector, corpus);
          results.set(detector, loaded);
        }
        return loaded;
      },
    };
  })();
  return fixture;
}
