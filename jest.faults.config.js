/** `npm run test:faults`: the fault suite, one scenario at a time (they kill and stop shared services). */
const base = require('./jest.config');

module.exports = async () => ({
  ...(await base()),
  testMatch: ['**/test/faults/**/*.fault.ts'],
  testTimeout: 300_000,
  maxWorkers: 1,
});
