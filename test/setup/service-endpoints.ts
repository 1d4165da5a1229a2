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
