import { WEBHOOK_EVENT_SCHEMA_FILE } from '../schemas/avro-schemas';
import { reachKafka, withRegistryDiagnosis } from '../platform/connection-diagnosis';
import { connectionFailureReason } from '../platform/connection-failures';
import { startupFailure } from '../platform/service-failures';
import { createKafka } from '../platform/kafka';
import { createRegistry, registerValueSchema } from '../platform/schema-registry';
import { ensureTopics } from '../platform/topics';
import { createLogger } from '../platform/logger';
import { configOrExit, StartupError, stopOnSignals, untilDone } from '../platform/service-lifecycle';
import { assembleReceiver } from './assemble';
import { readReceiverConfig } from './config';

async function main(): Promise<void> {
  const config = configOrExit(readReceiverConfig);
  const logger = createLogger({ level: config.logLevel, name: 'receiver' });
  for (const warning of config.warnings) logger.warn({ warning }, 'Configuration warning');

  const kafka = createKafka({ clientId: 'trade-webhooks-receiver', logger, ...config.kafka });
  const registry = createRegistry(config.registry.url, { auth: config.registry.auth, ca: config.registry.ca });
  let schemaId: number;
  try {
    // Kafka and the registry may come up after us: wait for them, but not for what only an
    // operator can fix (credentials, certificates, the wrong listener).
    await untilDone('Reaching Kafka', () => reachKafka(config.kafka), logger, startupFailure);
    const created = await untilDone(
      'Creating the topic',
      () => ensureTopics(kafka, [{ topic: config.topic, partitions: config.topicPartitions }], config.topicReplication),
      logger,
      startupFailure,
    );
    if (created) logger.info(created, 'Created topics');
    schemaId = await untilDone(
      'Registering the WebhookEvent schema',
      () => withRegistryDiagnosis(config.registry, () => registerValueSchema(registry, config.topic, WEBHOOK_EVENT_SCHEMA_FILE)),
      logger,
      startupFailure,
    );
  } catch (error) {
    if (!(error instanceof StartupError)) throw error;
    logger.error({ err: error.cause, code: error.code, reason: connectionFailureReason(error.code) }, 'Starting the receiver failed, and retrying cannot fix it');
    return logger.flush(() => process.exit(1));
  }

  const { receiver } = assembleReceiver({ config, logger, kafka, registry, schemaId });
  const address = await receiver.listen();
  logger.info({ port: address.port, topic: config.topic }, 'Receiver listening');
  stopOnSignals(logger, 'Receiver', () => receiver.close());
}

main().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
