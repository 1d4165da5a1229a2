import { Kafka, logLevel, type LogEntry, type logCreator } from 'kafkajs';
import type { Logger } from 'pino';
import type { KafkaConnection } from './kafka-connection';

/** kafkajs's log lines through the service's pino logger, at the level pino is set to. */
function pinoLogCreator(logger: Logger): logCreator {
  const child = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...extra } = log;
      if (level === logLevel.ERROR) child.error(extra, message);
      else if (level === logLevel.WARN) child.warn(extra, message);
      else if (level === logLevel.INFO) child.info(extra, message);
      else child.debug(extra, message);
    };
}

/** A kafkajs client for `connection` (KafkaConnection: brokers, and TLS and SASL when the cluster asks for them). */
export function createKafka(options: { clientId: string; logger: Logger } & KafkaConnection): Kafka {
  return new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    ...(options.ssl && { ssl: { ...options.ssl } }),
    ...(options.sasl && { sasl: { ...options.sasl } }),
    logLevel: logLevel.INFO,
    logCreator: pinoLogCreator(options.logger),
    connectionTimeout: 3000,
  });
}
