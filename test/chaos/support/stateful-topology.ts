/**
 * The stateful test topology (per-key detectors whose state lives in a changelog) under its own
 * name, so the chaos suite's changelog (`chaos-stateful.detect.changelog`) is not the integration
 * tests' one. The exactly-once kill scenario runs it: its changelog writes join the transactions.
 */
import { createStateful } from '../../fixtures/topologies/stateful.js';

export default createStateful('chaos-stateful');
