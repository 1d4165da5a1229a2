import { execFile } from 'node:child_process';
import { join } from 'node:path';
import knex from 'knex';
import { Kafka, logLevel } from 'kafkajs';
import { signPayload } from '../../schemas/signatures';
import { createRegistry } from '../../platform/schema-registry';
import { TOPICS } from '../../platform/topics';
import { serviceImages } from '../../scripts/harness/images';
import { appImage, buildAppImage as buildProjectImage } from '../../scripts/harness/images/app-image';
import { uniqueName } from './names';
import { TEST_SECRETS } from './receiver';
import { waitFor } from './wait-for';

export const ROOT = join(__dirname, '..', '..');

/** The app image the Docker smoke tests run: TRADE_WEBHOOKS_IMAGE, as in docker-compose.yml. */
export const APP_IMAGE = appImage();

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A command's exit code and output; a non-zero exit is a result, not an exception. */
export function run(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: ROOT, env: options.env ?? process.env, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(error);
      resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
    });
  });
}

/** `docker args…`, failing with its output when it exits non-zero. */
export async function docker(...args: string[]): Promise<string> {
  const result = await run('docker', args);
  if (result.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${result.code}: ${result.stderr || result.stdout}`);
  return result.stdout.trim();
}

/** Builds the app image on the Node image NODE_IMAGE names (scripts/harness/images/app-image.ts). */
export async function buildAppImage(): Promise<void> {
  buildProjectImage(serviceImages().node);
}

/** A short name for the test's containers, networks and compose projects: `docker ps` shows whose they are. */
export function dockerName(prefix: string): string {
  return uniqueName(prefix).toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 40);
}

/** The exit code of a container that has stopped. */
export async function exitCode(container: string): Promise<number> {
  return Number(await docker('inspect', '--format', '{{.State.ExitCode}}', container));
}

/** Where the system under test is reachable from the host. */
export interface SmokeEndpoints {
  readonly receiverUrl: string;
  readonly databaseUrl: string;
  readonly kafkaBroker: string;
  readonly registryUrl: string;
}

/**
 * The system's one promise, observed from outside: a pending trade, its signed buy-complete
 * webhook sent to the receiver, and then the trade completed in PostgreSQL and its notification
 * in `trade-notifications`. Returns the trade's id.
 */
export async function completeOneTrade(endpoints: SmokeEndpoints): Promise<number> {
  const db = knex({ client: 'pg', connection: endpoints.databaseUrl, pool: { min: 0, max: 1 } });
  try {
    const [trade] = await db('trades')
      .insert({ reference: uniqueName('SMOKE'), user_id: 4242, trade_type: 'buy', status: 'processing', crypto_amount: '0.001', crypto_currency: 'BTC', fiat_amount: '50000', fiat_currency: 'UGX' })
      .returning(['id']);
    const tradeId = Number(trade.id);

    const body = `{"trade_id":${tradeId},"status":"completed","crypto_amount":0.001,"transaction_hash":"0xsmoke"}`;
    const response = await fetch(`${endpoints.receiverUrl}/api/webhooks/buy-complete`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'x-buy-webhook-signature': signPayload(body, TEST_SECRETS.BUY_WEBHOOK_SECRET) },
    });
    if (response.status !== 202) throw new Error(`the receiver answered ${response.status}: ${await response.text()}`);

    await waitFor('the trade completed in PostgreSQL', async () => {
      const row = await db('trades').where({ id: tradeId }).first('status');
      return row?.status === 'completed' ? true : undefined;
    });
    await waitFor('the notification in trade-notifications', async () => ((await notificationsFor(endpoints, tradeId)) > 0 ? true : undefined), 30_000);
    return tradeId;
  } finally {
    await db.destroy();
  }
}

/** How many notifications for `tradeId` trade-notifications holds, read from the beginning. */
async function notificationsFor(endpoints: SmokeEndpoints, tradeId: number): Promise<number> {
  const kafka = new Kafka({ clientId: 'smoke', brokers: [endpoints.kafkaBroker], logLevel: logLevel.NOTHING });
  const registry = createRegistry(endpoints.registryUrl);
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(TOPICS.tradeNotifications).finally(() => admin.disconnect());
  const wanted = new Map(offsets.filter(({ high, low }) => Number(high) > Number(low)).map(({ partition, high }) => [partition, Number(high)]));
  if (wanted.size === 0) return 0;
  const consumer = kafka.consumer({ groupId: uniqueName('smoke-reader'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  let found = 0;
  try {
    const done = new Set<number>();
    await consumer.subscribe({ topic: TOPICS.tradeNotifications, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const value = (await registry.decode(message.value!)) as { trade_id?: number; status?: string };
        if (value.trade_id === tradeId && value.status === 'completed') found += 1;
        if (Number(message.offset) + 1 >= wanted.get(partition)!) done.add(partition);
      },
    });
    const deadline = Date.now() + 20_000;
    while (done.size < wanted.size && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    await consumer.disconnect();
  }
  return found;
}

/** Polls `url` until it answers 200. */
export function untilReady(what: string, url: string, timeoutMs = 120_000): Promise<true> {
  return waitFor(what, async () => ((await fetch(url).then((response) => response.status === 200, () => false)) ? true : undefined), timeoutMs);
}

/** Milliseconds since `started`, rounded, for the timing lines the smoke tests print. */
export function since(started: number): number {
  return Math.round(performance.now() - started);
}
