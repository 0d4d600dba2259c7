/**
 * `npm run test:evolve`: `etl migrate`'s upgrade of a big target (200,000 messages) killed at many
 * points, too slow for `npm test` (which runs the same scenarios on 12,000 in test/integration/evolve.test.ts).
 */
const base = require('./jest.config.cjs');

module.exports = { ...base, roots: ['<rootDir>/test-evolve'] };
