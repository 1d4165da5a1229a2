import { WEBHOOK_EVENT_SCHEMA_FILE } from '../schemas/avro-schemas';
import { reachKafka, withRegistryDiagnosis } from '../platform/connection-diagnosis';
import { connectionFailureReason } from '../platform/connection-failures';
import { listenFailureMessage } from '../platform/listen-failure';
import { startupFailure } from '../platform/service-failures';
import { createKafka } from '../platform/kafka';
import { createRegistry, registerValueSchema } from '../platform/schema-registry';
import { ensureTopics } from '../platform/topics';
import { createLogger } from '../platform/logger';
import { startTracing } from '../platform/tracing';
import { configOrExit, StartupAborted, StartupError, stopOnSignals, untilDone } from '../platform/service-lifecycle';
import { assemblePublisher } from './assemble';
import { readReceiverConfig } from './config';
import { createReceiverMetrics } from './metrics';
import { createSecretReloader } from './secret-reloader';
import { createReceiver } from './server';
import { dropKafkajsNegativeTimeoutWarning } from '../platform/node-warnings';

dropKafkajsNegativeTimeoutWarning();

async function main(): Promise<void> {
  const config = configOrExit(readReceiverConfig);
  const logger = createLogger({ level: config.logLevel, name: 'receiver' });
  for (const warning of config.warnings) logger.warn({ warning }, 'Configuration warning');
  // From here on a stop signal is honoured, however far the start-up has come.
  const shutdown = stopOnSignals(logger, 'Receiver');
  const tracing = startTracing(config.tracing, logger);
  if (tracing.exporting) logger.info('Exporting traces over OTLP/HTTP');
  const metrics = createReceiverMetrics();
  // SIGHUP would otherwise end the process: it reads the secrets again instead (never throwing).
  const secrets = createSecretReloader({ env: process.env, initial: config.secrets, logger, metrics, pollMs: config.secretFilesPollMs });
  process.on('SIGHUP', () => secrets.reload('SIGHUP'));
  secrets.start();
  shutdown.onShutdown(async () => secrets.stop());

  const receiver = createReceiver({ config, logger, metrics, secrets, tracing: tracing.exporting });
  // Listening first: an orchestrator sees the process alive (/healthz 200, /readyz 503) while it waits.
  let port: number;
  try {
    ({ port } = await receiver.listen());
  } catch (error) {
    logger.error({ code: (error as NodeJS.ErrnoException).code }, listenFailureMessage(error, config.host, config.port));
    return logger.flush(() => process.exit(1));
  }
  // The spans are exported once every request has ended, beside the producers' disconnect, so a
  // collector that does not answer adds nothing to the stop (SHUTDOWN_GRACE_MS + 1 s at most).
  shutdown.onShutdown(() => receiver.close(() => tracing.shutdown()));
  logger.info({ port }, 'Receiver answering health checks; starting');

  const kafka = createKafka({ clientId: 'trade-webhooks-receiver', logger, ...config.kafka });
  const registry = createRegistry(config.registry.url, { auth: config.registry.auth, ca: config.registry.ca });
  let schemaId: number;
  try {
    // Kafka and the registry may come up after us: wait for them, but not for what only an
    // operator can fix (credentials, certificates, the wrong listener).
    await untilDone('Reaching Kafka', () => reachKafka(config.kafka), logger, startupFailure, shutdown.signal);
    const created = await untilDone(
      'Creating the topic',
      () => ensureTopics(kafka, [{ topic: config.topic, partitions: config.topicPartitions }], config.topicReplication),
      logger,
      startupFailure,
      shutdown.signal,
    );
    if (created) logger.info(created, 'Created topics');
    schemaId = await untilDone(
      'Registering the WebhookEvent schema',
      () => withRegistryDiagnosis(config.registry, () => registerValueSchema(registry, config.topic, WEBHOOK_EVENT_SCHEMA_FILE)),
      logger,
      startupFailure,
      shutdown.signal,
    );
  } catch (error) {
    // The signal's handler closes the server and exits.
    if (error instanceof StartupAborted) return;
    if (!(error instanceof StartupError)) throw error;
    logger.error({ err: error.cause, code: error.code, reason: connectionFailureReason(error.code) }, 'Starting the receiver failed, and retrying cannot fix it');
    return logger.flush(() => process.exit(1));
  }

  await receiver.serve(assemblePublisher({ config, logger, metrics, kafka, registry, schemaId }));
  logger.info({ port, topic: config.topic }, 'Receiver listening');
}

main().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
