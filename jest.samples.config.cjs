/**
 * `npm run test:samples`: the tests that read the real legacy files in ../shared/legacy-samples
 * (test-samples/), with the same transform and PostgreSQL as `npm test`, whose config never sees them.
 */
const base = require('./jest.config.cjs');

module.exports = {
  ...base,
  roots: ['<rootDir>/test-samples'],
  globalSetup: '<rootDir>/test-samples/support/global-setup.ts',
};
