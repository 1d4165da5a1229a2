import { reachKafka, withRegistryDiagnosis } from '../platform/connection-diagnosis';
import { connectionFailureReason } from '../platform/connection-failures';
import { createKafka } from '../platform/kafka';
import { listenFailureMessage } from '../platform/listen-failure';
import { createRegistry } from '../platform/schema-registry';
import { createLogger } from '../platform/logger';
import { startTracing } from '../platform/tracing';
import { configOrExit, StartupAborted, StartupError, stopOnSignals, untilDone } from '../platform/service-lifecycle';
import { readProcessorConfig } from './config';
import { createDatabase } from './database';
import { classifyFailure } from './errors';
import { createProcessorMetrics } from './metrics';
import { createOpsServer } from './ops-server';
import { createProcessor } from './processor';
import { dropKafkajsNegativeTimeoutWarning } from '../platform/node-warnings';

dropKafkajsNegativeTimeoutWarning();

async function main(): Promise<void> {
  const config = configOrExit(readProcessorConfig);
  const logger = createLogger({ level: config.logLevel, name: 'processor' });
  // A TLS setting in DATABASE_URL it cannot honour is a configuration error like the others.
  const db = configOrExit(() => createDatabase({ url: config.databaseUrl, schema: config.databaseSchema, poolMax: config.databasePoolMax, logger }));
  // From here on a stop signal is honoured, however far the start-up has come. The closers run
  // last registered first: the processor, then the ops server, then the database.
  const shutdown = stopOnSignals(logger, 'Processor');
  for (const warning of config.tracing.warnings) logger.warn({ warning }, 'Configuration warning');
  const tracing = startTracing(config.tracing, logger);
  if (tracing.exporting) logger.info('Exporting traces over OTLP/HTTP');
  // Closed last, the spans of the work a stop finishes exported beside the database's close:
  // a collector that does not answer adds at most SHUTDOWN_MS (1 s) to the stop.
  shutdown.onShutdown(async () => void (await Promise.all([db.destroy(), tracing.shutdown()])));
  const kafka = createKafka({ clientId: 'trade-webhooks-processor', logger, ...config.kafka });
  const registry = createRegistry(config.registry.url, { auth: config.registry.auth, ca: config.registry.ca });
  const metrics = createProcessorMetrics();

  const processor = createProcessor({ config, db, kafka, registry, logger, metrics });
  const ops = createOpsServer({ port: config.port, host: config.host, isReady: () => processor.isReady(), registry: metrics.registry });
  let port: number;
  try {
    ({ port } = await ops.listen());
  } catch (error) {
    logger.error({ code: (error as NodeJS.ErrnoException).code }, listenFailureMessage(error, config.host, config.port));
    await db.destroy();
    return logger.flush(() => process.exit(1));
  }
  shutdown.onShutdown(() => ops.close());
  shutdown.onShutdown(() => processor.stop());
  logger.info({ port }, 'Processor health and metrics listening');

  /** Exit 1 (or `code`) once the rest is closed: an orchestrator restarts the process, an operator sees why in the one error before. */
  const exitFailed = (code = 1): void => {
    void Promise.allSettled([processor.stop()])
      .then(() => Promise.allSettled([ops.close(), db.destroy(), tracing.shutdown()]))
      .then(() => logger.flush(() => process.exit(code)));
  };
  void processor.failed.then(() => exitFailed());

  try {
    // Kafka, the registry and the database may come up after us: wait for them, but not for a
    // problem only an operator can fix (credentials, certificates, the wrong listener, an
    // incompatible schema, a missing migration).
    await untilDone('Reaching Kafka', () => reachKafka(config.kafka), logger, classifyFailure, shutdown.signal);
    await untilDone('Starting the processor', () => withRegistryDiagnosis(config.registry, () => processor.start()), logger, classifyFailure, shutdown.signal);
  } catch (error) {
    // The signal's handler closes what is open and exits.
    if (error instanceof StartupAborted) return;
    if (!(error instanceof StartupError)) throw error;
    logger.error({ err: error.cause, code: error.code, reason: connectionFailureReason(error.code) }, 'Starting the processor failed, and retrying cannot fix it');
    // WEBHOOK_EVENTS_RETENTION_DAYS against the topic's retention: a configuration problem, exit 2 as the others.
    return exitFailed(error.code === 'retention_unsafe' ? 2 : 1);
  }
  logger.info({ topic: config.webhookEventsTopic, group: config.consumerGroup }, 'Processor consuming');
}

main().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
