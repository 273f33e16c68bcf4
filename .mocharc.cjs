// Mocha runs TypeScript through tsx; the spec globs are in package.json's test scripts, so
// `npx mocha test/some.spec.ts` runs just that file. The root hooks in test/support start a real local Kafka broker
// for integration tests (lazily, only when a suite asks for it). The reporter is mocha's spec reporter
// plus a last line `N passed, N failed` that CI reads.
module.exports = {
  'node-option': ['import=tsx'],
  require: ['test/support/root-hooks.ts'],
  reporter: 'test/support/summary-reporter.cjs',
  timeout: 20000,
  exit: true,
};
