import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Knex } from 'knex';
import { insertTrade, migratedDatabase, createTestTopics, startTestProcessor } from '../support/processor';
import { startTestReceiver, TEST_RELWORX_CALLBACK_URL, TEST_SECRETS, type TestReceiver } from '../support/receiver';
import { onCleanup } from '../support/cleanup';
import { waitFor } from '../support/wait-for';

const cli = join(__dirname, '..', '..', 'bin', 'trade-webhooks.js');

async function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, ...args], { env: { PATH: process.env.PATH!, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('trade-webhooks CLI', () => {
  let db: Knex;
  let receiver: TestReceiver;
  beforeAll(async () => {
    const database = await migratedDatabase();
    db = database.db;
    const topics = await createTestTopics();
    receiver = await startTestReceiver({ topic: topics.events });
    await startTestProcessor({ topics, db, schema: database.schema });
  });

  it('sends a buy completion that the receiver accepts and the processor applies', async () => {
    const trade = await insertTrade(db, { trade_type: 'buy', status: 'processing', crypto_amount: '0.123456789012345678' });
    const result = await run(['send', 'buy-complete', '--trade-id', String(trade.id), '--crypto-amount', '0.123456789012345678', '--tx-hash', '0xc11', '--url', receiver.url], {
      BUY_WEBHOOK_SECRET: TEST_SECRETS.BUY_WEBHOOK_SECRET,
    });
    expect(result).toEqual(expect.objectContaining({ code: 0, stdout: expect.stringContaining('202 after 1 attempt') }));
    const row = await waitFor('the trade completed', async () => {
      const found = await db('trades').where({ id: trade.id, status: 'completed' }).first();
      return found ?? undefined;
    });
    expect(row.crypto_amount).toBe('0.123456789012345678');
  });

  it('sends a Relworx callback through the gateway path with --secret', async () => {
    const trade = await insertTrade(db, { trade_type: 'buy', fiat_amount: '50000', fiat_currency: 'UGX' });
    const result = await run([
      'send', 'relworx', '--customer-reference', trade.reference, '--internal-reference', 'RWX-CLI', '--amount', '50000', '--currency', 'UGX',
      '--url', receiver.url, '--gateway', '--secret', TEST_SECRETS.RELWORX_WEBHOOK_SECRET, '--callback-url', TEST_RELWORX_CALLBACK_URL,
    ]);
    expect(result.code).toBe(0);
    await waitFor('the trade processing', async () => (await db('trades').where({ id: trade.id, status: 'processing' }).first()) ?? undefined);
  });

  it('reads the secret from <NAME>_FILE, as the services do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-secret-'));
    onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'sell-secret');
    writeFileSync(file, `${TEST_SECRETS.SELL_WEBHOOK_SECRET}\n`);
    const result = await run(['send', 'sell-complete', '--trade-id', '1', '--fiat-amount', '1', '--payment-reference', 'P-FILE', '--url', receiver.url], { SELL_WEBHOOK_SECRET_FILE: file });
    expect(result.stdout).toContain('202 after 1 attempt');
    const both = await run(['send', 'sell-complete', '--trade-id', '1', '--url', receiver.url], { SELL_WEBHOOK_SECRET_FILE: file, SELL_WEBHOOK_SECRET: 'x' });
    expect(both.code).toBe(2);
    expect(both.stderr).not.toContain(TEST_SECRETS.SELL_WEBHOOK_SECRET);
  });

  it('exits 1 and prints the answer when the receiver refuses the webhook', async () => {
    const result = await run(['send', 'sell-complete', '--trade-id', '1', '--url', receiver.url], { SELL_WEBHOOK_SECRET: TEST_SECRETS.SELL_WEBHOOK_SECRET });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('400 after 1 attempt');
    expect(result.stdout).toContain('"fields":["payment_reference"]');
  });

  it('explains usage errors and exits 2', async () => {
    const noSecret = await run(['send', 'buy-complete', '--trade-id', '1', '--url', receiver.url]);
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toContain('no secret: pass --secret or set BUY_WEBHOOK_SECRET');
    const unknown = await run(['send', 'refund']);
    expect(unknown.code).toBe(2);
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('trade-webhooks send buy-complete --trade-id 123');
  });

  it('prints the signature header for a body, as openssl computes it', async () => {
    const fixture = join(__dirname, 'fixtures', 'buy-body.json');
    const result = await run(['sign', '--type', 'buy-complete', '--secret', 'k', fixture]);
    const openssl = execFileSync('openssl', ['dgst', '-sha256', '-hmac', 'k', '-r', fixture]).toString().split(' ')[0];
    expect(result).toEqual(expect.objectContaining({ code: 0, stdout: `X-Buy-Webhook-Signature: ${openssl}\n` }));
  });
});
