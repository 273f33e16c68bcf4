// Mocha's spec reporter, followed by one line `N passed, N failed` (CI reads the last line of .ci/run,
// and does not understand mocha's own summary).
const Mocha = require('mocha');

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const { passes, failures, pending } = runner.stats;
      // After the spec reporter's epilogue, so it is the last thing mocha prints.
      process.nextTick(() => {
        const skipped = pending > 0 ? ` (${pending} pending)` : '';
        console.log(`\n${passes} passed, ${failures} failed${skipped}`);
      });
    });
  }
}

module.exports = SummaryReporter;
