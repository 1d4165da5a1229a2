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

/**
 * The services named by the environment (all of KAFKA_BROKERS, SCHEMA_REGISTRY_URL and
 * DATABASE_URL), else Docker through testcontainers, else the native services of
 * `npm run services:up`.
 */
export async function chooseServices(env: NodeJS.ProcessEnv = process.env): Promise<ChosenServices> {
  const { KAFKA_BROKERS, SCHEMA_REGISTRY_URL, DATABASE_URL } = env;
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
