import { WEBHOOK_EVENT_SCHEMA_FILE } from '../schemas/avro-schemas';
import { createKafka } from '../platform/kafka';
import { createRegistry, registerValueSchema } from '../platform/schema-registry';
import { ensureTopics } from '../platform/topics';
import { createLogger } from '../platform/logger';
import { configOrExit, stopOnSignals, untilDone } from '../platform/service-lifecycle';
import { assembleReceiver } from './assemble';
import { readReceiverConfig } from './config';

async function main(): Promise<void> {
  const config = configOrExit(readReceiverConfig);
  const logger = createLogger({ level: config.logLevel, name: 'receiver' });
  for (const warning of config.warnings) logger.warn({ warning }, 'Configuration warning');

  const kafka = createKafka({ clientId: 'trade-webhooks-receiver', brokers: config.kafkaBrokers, logger });
  await untilDone('Creating the topic', () => ensureTopics(kafka, [{ topic: config.topic, partitions: config.topicPartitions }]), logger);
  const registry = createRegistry(config.schemaRegistryUrl);
  const schemaId = await untilDone('Registering the WebhookEvent schema', () => registerValueSchema(registry, config.topic, WEBHOOK_EVENT_SCHEMA_FILE), logger);

  const { receiver } = assembleReceiver({ config, logger, kafka, registry, schemaId });
  const address = await receiver.listen();
  logger.info({ port: address.port, topic: config.topic }, 'Receiver listening');
  stopOnSignals(logger, 'Receiver', () => receiver.close());
}

main().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
