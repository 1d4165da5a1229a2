import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A process of its own: Node.js prints warnings from its own listener. kafkajs's request queue,
 * checked with no request pending, sets a timer of minus the clock: Node.js 24 warns about it,
 * earlier versions do not.
 */
async function stderrOf(script: string): Promise<string> {
  const { stderr } = await run(process.execPath, ['--import', 'tsx', '-e', script], { cwd: join(__dirname, '../..'), env: { PATH: process.env.PATH } });
  return stderr;
}

const KAFKAJS_NEGATIVE_TIMER = `
  const RequestQueue = require('kafkajs/src/network/requestQueue');
  const queue = new RequestQueue({ maxInFlightRequests: 1, requestTimeout: 1000, enforceRequestTimeout: false, clientId: 'test', broker: 'test', logger: { debug() {}, info() {}, warn() {}, error() {} } });
  queue.scheduleCheckPendingRequests();
  setTimeout(() => process.emitWarning('still printed', 'OtherWarning'), 20);
  setTimeout(() => process.exit(0), 60);
`;

describe("kafkajs's negative timer warning", () => {
  it('is dropped, and every other warning is still printed', async () => {
    const stderr = await stderrOf(`require('./platform/node-warnings').dropKafkajsNegativeTimeoutWarning();${KAFKAJS_NEGATIVE_TIMER}`);
    expect(stderr).not.toContain('TimeoutNegativeWarning');
    expect(stderr).toContain('OtherWarning: still printed');
  });

  it('is printed without it on Node.js 24 and later', async () => {
    const stderr = await stderrOf(KAFKAJS_NEGATIVE_TIMER);
    if (Number(process.versions.node.split('.')[0]) >= 24) expect(stderr).toContain('TimeoutNegativeWarning');
    expect(stderr).toContain('OtherWarning: still printed');
  });
});
