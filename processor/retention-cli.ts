import { parseArgs } from 'node:util';
import { createKafka } from '../platform/kafka';
import { createLogger } from '../platform/logger';
import { configOrExit } from '../platform/service-lifecycle';
import { readProcessorConfig } from './config';
import { createDatabase } from './database';
import { runRetention } from './retention';
import { checkRetentionAgainstTopic, RetentionUnsafe } from './retention-guard';
import { dropKafkajsNegativeTimeoutWarning } from '../platform/node-warnings';

dropKafkajsNegativeTimeoutWarning();

const USAGE = `Usage: npm run retention
Deletes sent outbox rows older than OUTBOX_RETENTION_DAYS (default 7) and applied or stale
webhook_events rows not processed or seen for WEBHOOK_EVENTS_RETENTION_DAYS (default 30),
RETENTION_BATCH_ROWS (default 1000) at a time; 0 days keeps a table's rows. Rejected
webhook_events rows are kept. Refuses (exit 2) to delete webhook_events rows the webhook-events
topic may still deliver the events of (its retention.ms + segment.ms, or kept for ever), or when
the topic's configuration cannot be read, unless WEBHOOK_EVENTS_RETENTION_FORCE=true.
Reads the processor's environment.`;

/** `npm run retention`: one run of the retention job, for a scheduler (cron, a Kubernetes CronJob). */
async function main(): Promise<number> {
  const { values } = parseArgs({ options: { help: { type: 'boolean' } } });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const config = configOrExit(readProcessorConfig);
  const logger = createLogger({ level: config.logLevel, name: 'retention' });
  const db = configOrExit(() => createDatabase({ url: config.databaseUrl, schema: config.databaseSchema, poolMax: 2, logger }));
  let stopping = false;
  // A stop signal ends the run after its batch: what is deleted is committed, the rest waits for the next run.
  const stop = (): void => void (stopping = true);
  process.once('SIGINT', stop).once('SIGTERM', stop);
  try {
    const kafka = createKafka({ clientId: 'trade-webhooks-retention', logger, ...config.kafka });
    await checkRetentionAgainstTopic({ kafka, topics: [config.webhookEventsTopic, config.deadLetterTopic], retention: config.retention, logger });
    const summary = await runRetention({ db, policy: config.retention, logger, shouldStop: () => stopping });
    return summary.interrupted ? 1 : 0;
  } catch (error) {
    if (!(error instanceof RetentionUnsafe)) throw error;
    console.error(`retention: ${error.message}`);
    return 2;
  } finally {
    await db.destroy();
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
  }
}

main().then(
  (code) => (process.exitCode = code),
  (error: Error) => {
    console.error(`retention: ${error.message}`);
    process.exitCode = 1;
  },
);
