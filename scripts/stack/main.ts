import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../../platform/logger';
import { SECRET_VARIABLES } from '../../platform/secret-variables';
import { createDatabase } from '../../processor/database';
import { normalizeDecimal } from '../../processor/decimal-compare';
import { migrateDatabase } from '../../processor/migrations';
import { chooseServices, type ChosenServices } from '../harness/choose-services';
import { serviceSettings } from '../harness/native/settings';
import { startChild, type StackChild } from './child-process';
import { signedCurl } from './curl-commands';
import { insertDemoTrades } from './demo-trades';
import { acquireStackLock } from './stack-lock';

/** Development secrets used when none are set: never for anything but a local stack. */
const DEVELOPMENT_SECRETS: Record<string, string> = {
  BUY_WEBHOOK_SECRET: 'dev-buy-webhook-secret-0123456789abcdef',
  SELL_WEBHOOK_SECRET: 'dev-sell-webhook-secret-0123456789abcdef',
  TRADE_WEBHOOK_SECRET: 'dev-trade-webhook-secret-0123456789abcdef',
  RELWORX_WEBHOOK_SECRET: 'dev-relworx-webhook-secret-0123456789abcdef',
};

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

async function ready(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const settings = serviceSettings();
  const lock = acquireStackLock(join(settings.stateDir, 'stack.pid'));
  if (!lock.ok) {
    console.error(`A stack is already running from this clone (pid ${lock.pid}). Stop it with Ctrl-C in its terminal, or: kill ${lock.pid}`);
    process.exit(1);
  }

  const children: StackChild[] = [];
  let services: ChosenServices | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (code: number): Promise<void> =>
    (stopping ??= (async () => {
      say('\nStopping the stack...');
      for (const child of children.reverse()) await child.stop();
      await services?.stop();
      lock.release();
      say('Stopped.');
      process.exit(code);
    })());
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  try {
    say('Starting the services...');
    services = await chooseServices();
    say(`Services: ${services.how}`);

    const port = process.env.PORT || '8000';
    const processorPort = process.env.PROCESSOR_PORT || '8001';
    const secrets: Record<string, string> = {};
    const variables = Object.values(SECRET_VARIABLES);
    const usingDevelopmentSecrets = variables.some((variable) => !process.env[variable]);
    for (const variable of variables) secrets[variable] = process.env[variable] || DEVELOPMENT_SECRETS[variable]!;
    // Docker's services are on ports of its choosing: the CLI finds them through stack.env.
    const servicesEnv = { KAFKA_BROKERS: services.kafkaBrokers, SCHEMA_REGISTRY_URL: services.schemaRegistryUrl, DATABASE_URL: services.databaseUrl };
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...servicesEnv,
      ...secrets,
      PORT: port,
      PROCESSOR_PORT: processorPort,
      RELWORX_CALLBACK_URL: process.env.RELWORX_CALLBACK_URL || `http://localhost:${port}/api/webhooks/relworx`,
    };

    const logger = createLogger({ level: 'warn', name: 'stack' });
    const db = createDatabase({ url: env.DATABASE_URL!, schema: env.DATABASE_SCHEMA || undefined, poolMax: 2, logger });
    await migrateDatabase(db, { schema: env.DATABASE_SCHEMA || undefined, walletTables: env.MIGRATE_WALLET_TABLES !== 'false' });
    const trades = await insertDemoTrades(db);
    await db.destroy();
    say('Migrations applied. Demo trades (development only):');
    for (const trade of trades) {
      say(`  trade ${trade.id}  ${trade.trade_type.padEnd(4)}  reference ${trade.reference}  user ${trade.user_id}  fiat ${normalizeDecimal(trade.fiat_amount)} ${trade.fiat_currency}`);
    }

    const color = process.stdout.isTTY === true;
    children.push(startChild('processor', 'processor/main.ts', { env, color }));
    children.push(startChild('receiver', 'receiver/main.ts', { env, color }));
    for (const child of children) {
      void child.exited.then((code) => {
        if (!stopping) {
          console.error(`${child.name} exited (code ${code}); stopping the stack`);
          void stop(1);
        }
      });
    }

    const deadline = Date.now() + 120_000;
    while (!((await ready(`http://127.0.0.1:${port}/readyz`)) && (await ready(`http://127.0.0.1:${processorPort}/readyz`)))) {
      if (Date.now() > deadline) throw new Error('the receiver and processor did not become ready within 120 s');
      await sleep(250);
    }

    const stackEnv = join(settings.stateDir, 'stack.env');
    writeFileSync(stackEnv, Object.entries({ ...servicesEnv, ...secrets }).map(([name, value]) => `export ${name}='${value}'`).join('\n') + '\n', { mode: 0o600 });
    const [buy, sell] = trades;
    const buyBody = JSON.stringify({ trade_id: buy!.id, status: 'completed', crypto_amount: 0.001, transaction_hash: '0x1234567890abcdef' });
    const sellBody = JSON.stringify({ trade_id: sell!.id, status: 'completed', fiat_amount: 100.0, payment_reference: 'PAY_REF_123456' });
    say('');
    say(`Ready: receiver http://localhost:${port}, processor health and metrics http://localhost:${processorPort}`);
    say(usingDevelopmentSecrets ? `Using development webhook secrets for those not set; for the CLI: source ${stackEnv}` : `Secrets from the environment; for the CLI: source ${stackEnv}`);
    say('');
    say(`# Complete the demo buy trade ${buy!.id}:`);
    say(signedCurl({ url: `http://localhost:${port}/api/webhooks/buy-complete`, header: 'X-Buy-Webhook-Signature', secret: secrets.BUY_WEBHOOK_SECRET!, body: buyBody }));
    say('');
    say(`# Complete the demo sell trade ${sell!.id}:`);
    say(signedCurl({ url: `http://localhost:${port}/api/webhooks/sell-complete`, header: 'X-Sell-Webhook-Signature', secret: secrets.SELL_WEBHOOK_SECRET!, body: sellBody }));
    say('');
    say(`# Then: npm run events -- --trade-id ${buy!.id}`);
    say('Ctrl-C stops everything this stack started.');
  } catch (error) {
    console.error(`stack: ${(error as Error).message}`);
    await stop(1);
  }
}

void main();
