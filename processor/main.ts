import { setTimeout as sleep } from 'node:timers/promises';
import { createKafka, createRegistry } from '../schemas/kafka-client';
import { createLogger } from '../schemas/logger';
import { ConfigError, readProcessorConfig } from './config';
import { createDatabase } from './database';
import { createProcessorMetrics } from './metrics';
import { createOpsServer } from './ops-server';
import { createProcessor, type Processor } from './processor';

async function main(): Promise<void> {
  let config;
  try {
    config = readProcessorConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel, name: 'processor' });
  const db = createDatabase({ url: config.databaseUrl, schema: config.databaseSchema, poolMax: config.databasePoolMax, logger });
  const kafka = createKafka({ clientId: 'trade-webhooks-processor', brokers: config.kafkaBrokers, logger });
  const registry = createRegistry(config.schemaRegistryUrl);
  const metrics = createProcessorMetrics();

  let processor: Processor | undefined;
  const ops = createOpsServer({ port: config.port, host: config.host, isReady: () => processor?.isReady() ?? false, registry: metrics.registry });
  const address = await ops.listen();
  logger.info({ port: address.port }, 'Processor health and metrics on port %d', address.port);

  // Kafka and the registry may come up after us: keep trying.
  for (let attempt = 1; !processor; attempt += 1) {
    try {
      processor = await createProcessor({ config, db, kafka, registry, logger, metrics });
    } catch (error) {
      logger.warn({ err: error, attempt }, 'Processor could not start; retrying');
      await sleep(Math.min(5000, 250 * 2 ** attempt));
    }
  }
  await processor.start();
  logger.info({ topic: config.webhookEventsTopic, group: config.consumerGroup }, 'Processor consuming %s', config.webhookEventsTopic);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'Shutting down: finishing the batch under way');
    processor!
      .stop()
      .then(() => ops.close())
      .then(() => db.destroy())
      .then(
        () => {
          logger.info('Processor stopped');
          logger.flush(() => process.exit(0));
        },
        (error: Error) => {
          logger.error({ err: error }, 'Shutdown failed');
          logger.flush(() => process.exit(1));
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
