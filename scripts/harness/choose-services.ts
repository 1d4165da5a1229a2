import { spawnSync } from 'node:child_process';
import { startContainers } from './containers';
import { servicesUp } from './native';
import { stopKafka } from './native/kafka';
import { stopRegistry } from './native/registry';
import { serviceSettings } from './native/settings';

/** The Kafka, schema registry and PostgreSQL that the tests, the stack or the bench run against. */
export interface ChosenServices {
  readonly kafkaBrokers: string;
  readonly schemaRegistryUrl: string;
  readonly databaseUrl: string;
  /** Which of the three ways found them, for a one-line report. */
  readonly how: string;
  /** Stops what this choice started; services that were already there stay up. */
  stop(): Promise<void>;
}

/** Whether a Docker engine answers, not merely whether the docker CLI is installed. */
function dockerAnswers(): boolean {
  return spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 10_000, stdio: 'ignore' }).status === 0;
}

const SERVICE_VARIABLES = ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'DATABASE_URL'] as const;

/**
 * The services named by the environment (all of KAFKA_BROKERS, SCHEMA_REGISTRY_URL and
 * DATABASE_URL), else Docker through testcontainers, else the native services of
 * `npm run services:up`. Some of the three set (not empty) and not all is an error.
 */
export async function chooseServices(env: NodeJS.ProcessEnv = process.env): Promise<ChosenServices> {
  const { KAFKA_BROKERS, SCHEMA_REGISTRY_URL, DATABASE_URL } = env;
  // Some set and not the others is a half-finished setup: replacing it with local services
  // would run against other services than the ones named, and say so nowhere.
  const missing = SERVICE_VARIABLES.filter((name) => !env[name]);
  if (missing.length > 0 && missing.length < SERVICE_VARIABLES.length) {
    throw new Error(`KAFKA_BROKERS, SCHEMA_REGISTRY_URL and DATABASE_URL name the services to use: set all three, or none. Missing: ${missing.join(', ')}`);
  }
  if (KAFKA_BROKERS && SCHEMA_REGISTRY_URL && DATABASE_URL) {
    return { kafkaBrokers: KAFKA_BROKERS, schemaRegistryUrl: SCHEMA_REGISTRY_URL, databaseUrl: DATABASE_URL, how: 'from the environment', stop: async () => undefined };
  }
  if (dockerAnswers()) {
    const started = await startContainers();
    return {
      kafkaBrokers: started.kafkaBrokers,
      schemaRegistryUrl: started.schemaRegistryUrl,
      databaseUrl: started.databaseUrl,
      how: 'Docker, testcontainers',
      async stop() {
        for (const container of started.containers) await container.stop();
      },
    };
  }
  const settings = serviceSettings(env);
  const native = await servicesUp(settings);
  return {
    kafkaBrokers: native.kafkaBrokers,
    schemaRegistryUrl: native.schemaRegistryUrl,
    databaseUrl: native.databaseUrl,
    how: `native, Kafka ${native.kafka}, registry ${native.registry}`,
    async stop() {
      await Promise.all([native.kafka === 'started' && stopKafka(settings), native.registry === 'started' && stopRegistry(settings)]);
    },
  };
}
