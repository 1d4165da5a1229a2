import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isAlive } from '../../scripts/harness/native/processes';
import { onCleanup } from '../support/cleanup';
import { testDatabase } from '../support/database';
import { freePort } from '../../scripts/harness/free-port';
import { createTestTopics, systemEnv } from '../support/processor';
import { waitFor } from '../support/wait-for';

const root = join(__dirname, '..', '..');

describe('npm run stack', () => {
  it('starts the receiver and processor, prints a working signed curl, and stops everything it started', async () => {
    const { db, schema } = await testDatabase();
    const topics = await createTestTopics();
    const stateDir = mkdtempSync(join(tmpdir(), 'stack-'));
    onCleanup(() => rmSync(stateDir, { recursive: true, force: true }));
    const [port, processorPort] = [await freePort(), await freePort()];
    const env = {
      PATH: process.env.PATH!,
      HOME: process.env.HOME!,
      ...systemEnv({ schema, topics }),
      PORT: String(port),
      PROCESSOR_PORT: String(processorPort),
      SERVICES_STATE_DIR: stateDir,
    };
    const stack = spawn(process.execPath, ['--import', 'tsx', 'scripts/stack/main.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    onCleanup(() => stack.exitCode === null && stack.kill('SIGKILL'));
    let output = '';
    stack.stdout.on('data', (chunk) => (output += chunk));
    stack.stderr.on('data', (chunk) => (output += chunk));
    await waitFor('the stack to be ready', async () => (output.includes('Ctrl-C stops everything') ? true : stack.exitCode !== null ? Promise.reject(new Error(output)) : undefined), 120_000);

    for (const url of [`http://127.0.0.1:${port}/healthz`, `http://127.0.0.1:${processorPort}/healthz`]) {
      expect((await fetch(url)).status).toBe(200);
    }
    const buyTradeId = Number(/# Complete the demo buy trade (\d+):/.exec(output)![1]);
    const curl = /# Complete the demo buy trade \d+:\n(curl[\s\S]*?--data-binary '[^']*')/.exec(output)![1]!;
    const { stdout } = await promisify(execFile)('bash', ['-c', `${curl} -s`]);
    expect(stdout).toMatch(/^HTTP\/1.1 202 Accepted/);
    await waitFor('the demo buy trade completed', async () => (await db('trades').where({ id: buyTradeId, status: 'completed' }).first()) ?? undefined);

    // A second stack from the same clone refuses to start.
    const second = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/stack/main.ts'], { cwd: root, env }).catch((error) => error);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('A stack is already running from this clone');

    const pids = [...output.matchAll(/"pid":(\d+)/g)].map((match) => Number(match[1]));
    expect(new Set(pids).size).toBe(2);
    stack.kill('SIGTERM');
    const [code] = await once(stack, 'exit');
    expect(code).toBe(0);
    expect(output).toContain('Stopped.');
    for (const pid of new Set(pids)) expect(isAlive(pid)).toBe(false);
  }, 180_000);
});
