import { createKafka, createRegistry } from '../schemas/kafka-client';
import { createLogger } from '../schemas/logger';
import { configOrExit, stopOnSignals, untilDone } from '../schemas/service-lifecycle';
import { readProcessorConfig } from './config';
import { createDatabase } from './database';
import { createProcessorMetrics } from './metrics';
import { createOpsServer } from './ops-server';
import { createProcessor, type Processor } from './processor';

async function main(): Promise<void> {
  const config = configOrExit(readProcessorConfig);
  const logger = createLogger({ level: config.logLevel, name: 'processor' });
  const db = createDatabase({ url: config.databaseUrl, schema: config.databaseSchema, poolMax: config.databasePoolMax, logger });
  const kafka = createKafka({ clientId: 'trade-webhooks-processor', brokers: config.kafkaBrokers, logger });
  const registry = createRegistry(config.schemaRegistryUrl);
  const metrics = createProcessorMetrics();

  let running: Processor | undefined;
  const ops = createOpsServer({ port: config.port, host: config.host, isReady: () => running?.isReady() ?? false, registry: metrics.registry });
  const address = await ops.listen();
  logger.info({ port: address.port }, 'Processor health and metrics on port %d', address.port);

  // Kafka and the registry may come up after us: keep trying.
  const processor = await untilDone('Starting the processor', () => createProcessor({ config, db, kafka, registry, logger, metrics }), logger);
  running = processor;
  await processor.start();
  logger.info({ topic: config.webhookEventsTopic, group: config.consumerGroup }, 'Processor consuming %s', config.webhookEventsTopic);
  stopOnSignals(logger, 'Processor', async () => {
    await processor.stop();
    await ops.close();
    await db.destroy();
  });
}

main().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
