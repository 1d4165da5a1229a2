import type { ServicesPath } from '../../scripts/harness/choose-services';

/** What the tests connect to, as the global setup left it in the environment. */
export interface ServiceEndpoints {
  readonly kafkaBrokers: string[];
  readonly schemaRegistryUrl: string;
  readonly databaseUrl: string;
}

export function serviceEndpoints(env: NodeJS.ProcessEnv = process.env): ServiceEndpoints {
  const { KAFKA_BROKERS, SCHEMA_REGISTRY_URL, DATABASE_URL } = env;
  if (!KAFKA_BROKERS || !SCHEMA_REGISTRY_URL || !DATABASE_URL) {
    throw new Error('KAFKA_BROKERS, SCHEMA_REGISTRY_URL and DATABASE_URL are unset: run the tests through jest (its global setup sets them).');
  }
  return {
    kafkaBrokers: KAFKA_BROKERS.split(',').map((broker) => broker.trim()),
    schemaRegistryUrl: SCHEMA_REGISTRY_URL,
    databaseUrl: DATABASE_URL,
  };
}

/**
 * How the global setup found the test services (TEST_SERVICES_PATH, which it sets): tests that start
 * a service of their own start it the same way, so the Docker path needs neither Java nor
 * PostgreSQL's binaries.
 */
export function servicesStartedBy(env: NodeJS.ProcessEnv = process.env): ServicesPath {
  const path = env.TEST_SERVICES_PATH;
  if (path !== 'environment' && path !== 'docker' && path !== 'native') {
    throw new Error(`TEST_SERVICES_PATH is ${JSON.stringify(path)}: run the tests through jest (its global setup sets it).`);
  }
  return path;
}

/** The Docker path's PostgreSQL container under test, which the global setup started. */
export function postgresContainerId(env: NodeJS.ProcessEnv = process.env): string {
  const id = env.TEST_POSTGRES_CONTAINER_ID;
  if (!id) throw new Error('TEST_POSTGRES_CONTAINER_ID is unset: the test services are not containers the global setup started.');
  return id;
}
