import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { onCleanup } from '../support/cleanup';
import { testDatabase } from '../support/database';
import { freePort } from '../support/free-port';
import { createTestTopics, systemEnv } from '../support/processor';
import { waitFor } from '../support/wait-for';

const root = join(__dirname, '..', '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');

describe('npm run migrate and npm run processor', () => {
  it('migrates, becomes ready, and exits 0 on SIGTERM', async () => {
    const { db, schema } = await testDatabase();
    const topics = await createTestTopics();
    const port = await freePort();
    const env = {
      PATH: process.env.PATH,
      ...systemEnv({ schema, topics }),
      PROCESSOR_PORT: String(port),
      PROCESSOR_HOST: '127.0.0.1',
    };
    const migrated = await promisify(execFile)(tsx, ['processor/migrate.ts'], { cwd: root, env });
    expect(migrated.stdout).toMatch(/Applied batch 1: .*create_trades_and_transactions.*create_webhook_events_and_outbox/);
    expect(await db('trades').count()).toEqual([{ count: '0' }]);

    const child = spawn(process.execPath, [tsx, 'processor/main.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    onCleanup(() => child.exitCode === null && child.kill('SIGKILL'));
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    await waitFor('readiness', async () => {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
      return response?.status === 200 ? true : undefined;
    });
    expect((await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()))).toContain('webhook_processor_ready 1');

    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(output).toContain('Processor stopped');
  });
});
