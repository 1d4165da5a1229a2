import type { LogLevel } from './environment';
import { TOPICS } from './topics';

/**
 * What both services use for a variable that is not set, in one place so the receiver and the
 * processor cannot drift apart (one writing to a topic the other does not read). The addresses
 * are those of the local services `npm run services:up` starts, so a fresh clone runs without
 * configuration; a deployment sets them.
 */
export const SERVICE_DEFAULTS = Object.freeze({
  kafkaBrokers: '127.0.0.1:9092',
  schemaRegistryUrl: 'http://127.0.0.1:8081/apis/ccompat/v7',
  webhookEventsTopic: TOPICS.webhookEvents,
  /** Partitions of a topic a service has to create. */
  topicPartitions: 6,
  logLevel: 'info' as LogLevel,
  /** Every interface: a container's published port arrives on its external interface, not on 127.0.0.1. */
  host: '0.0.0.0',
});
