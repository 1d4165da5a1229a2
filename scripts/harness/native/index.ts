import { deleteKafkaData, startKafka, stopKafka } from './kafka';
import { kafkaAnswers, type KafkaEndpoint } from './kafka-client';
import { dropDatabase, ensurePostgres } from './postgres';
import { registryUrl, startRegistry, stopRegistry } from './registry';
import { serviceSettings, type ServiceSettings } from './settings';
import type { StartResult } from './start-service';

export interface NativeServices {
  readonly kafkaBrokers: string;
  /** How clients reach Kafka: its addresses, and with `sasl_ssl` its CA and SCRAM user. */
  readonly kafkaEndpoint: KafkaEndpoint;
  /** `sasl_ssl` only: the listeners that take the run's client certificate instead. */
  readonly kafkaMutualTls?: KafkaEndpoint;
  readonly schemaRegistryUrl: string;
  readonly databaseUrl: string;
  readonly kafka: StartResult;
  readonly registry: StartResult;
  readonly versions: { kafkaClusterId: string; postgres: string };
}

/**
 * Starts Kafka and the schema registry natively (unless this clone already runs them, or
 * something already answers on their ports) and makes sure PostgreSQL and the database exist.
 * Kafka and the registry start in parallel: both are JVMs that take seconds to boot.
 * PostgreSQL is checked first, alone: fetching the JVM services' artifacts blocks the event
 * loop, which would time out its connection attempt.
 */
export async function servicesUp(settings: ServiceSettings = serviceSettings()): Promise<NativeServices> {
  const postgres = await ensurePostgres(settings);
  const [kafka, registry] = await Promise.all([startKafka(settings), startRegistry(settings)]);
  const { endpoint } = kafka;
  return {
    kafkaBrokers: endpoint.bootstrap.join(','),
    kafkaEndpoint: endpoint,
    kafkaMutualTls: kafka.mutualTls,
    schemaRegistryUrl: registryUrl(settings),
    databaseUrl: settings.databaseUrl,
    kafka: kafka.result,
    registry,
    versions: { kafkaClusterId: await kafkaAnswers(endpoint.bootstrap, 3000, endpoint.client), postgres },
  };
}

/**
 * Stops exactly what `servicesUp` started in this clone; PostgreSQL is the machine's and stays.
 * Kafka's data and the registry's schemas stay too, unless `deleteData`: then both go together
 * (Kafka's of every broker count and security kept), since records kept without the schemas
 * they name could not be decoded.
 */
export async function servicesDown(
  settings: ServiceSettings = serviceSettings(),
  options: { deleteData?: boolean } = {},
): Promise<{ kafka: boolean; registry: boolean }> {
  const [kafka, registry] = await Promise.all([stopKafka(settings), stopRegistry(settings)]);
  if (options.deleteData) {
    deleteKafkaData(settings);
    await dropDatabase(settings.registryDatabaseUrl);
  }
  return { kafka, registry };
}
