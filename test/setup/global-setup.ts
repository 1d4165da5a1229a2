import { chooseServices, type ChosenServices } from '../../scripts/harness/choose-services';
import { kafkaAnswers } from '../../scripts/harness/native/kafka-client';
import { postgresAnswers } from '../../scripts/harness/native/postgres';

declare global {
  // Shared with the global teardown, which runs in the same process.
  // eslint-disable-next-line no-var
  var tradeWebhooksServices: ChosenServices | undefined;
}

async function report(services: ChosenServices): Promise<void> {
  const clusterId = await kafkaAnswers(services.kafkaBrokers.split(','));
  const postgres = (await postgresAnswers(services.databaseUrl)).split(' on ')[0];
  console.log(
    `\nTest services (${services.how}): Kafka ${services.kafkaBrokers} (cluster ${clusterId}), ` +
      `schema registry ${services.schemaRegistryUrl}, ${postgres}`,
  );
}

/**
 * Picks the services the tests run against (scripts/harness/choose-services.ts). Test files
 * read the choice from KAFKA_BROKERS, SCHEMA_REGISTRY_URL and DATABASE_URL, and how it was made from
 * TEST_SERVICES_PATH (test/setup/service-endpoints.ts).
 */
export default async function globalSetup(): Promise<void> {
  const services = await chooseServices();
  globalThis.tradeWebhooksServices = services;
  process.env.KAFKA_BROKERS = services.kafkaBrokers;
  process.env.SCHEMA_REGISTRY_URL = services.schemaRegistryUrl;
  process.env.DATABASE_URL = services.databaseUrl;
  process.env.TEST_SERVICES_PATH = services.path;
  if (services.postgresContainerId) process.env.TEST_POSTGRES_CONTAINER_ID = services.postgresContainerId;
  await report(services);
}
