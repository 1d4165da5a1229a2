import { getContainerRuntimeClient } from 'testcontainers';
import { startContainers } from './containers';
import { serviceImages } from './images';
import { servicesUp } from './native';
import { stopKafka } from './native/kafka';
import { stopRegistry } from './native/registry';
import { serviceSettings } from './native/settings';

/** The Kafka, schema registry and PostgreSQL that the tests, the stack or the bench run against. */
export interface ChosenServices {
  readonly kafkaBrokers: string;
  readonly schemaRegistryUrl: string;
  readonly databaseUrl: string;
  /** Which of the three ways found them. */
  readonly path: ServicesPath;
  /** The same, with what was started, for a one-line report. */
  readonly how: string;
  /** The Docker path's PostgreSQL container, for tests that stop and start the database under test. */
  readonly postgresContainerId?: string;
  /** Stops what this choice started; services that were already there stay up. */
  stop(): Promise<void>;
}

/** Where the services come from: named by the environment, started as containers, or started natively. */
export type ServicesPath = 'environment' | 'docker' | 'native';

/** Whether a container engine answered testcontainers, and if not, why. */
export type EngineProbe = { readonly answers: true } | { readonly answers: false; readonly reason: string };

const SERVICE_VARIABLES = ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'DATABASE_URL'] as const;
const RUNTIMES = ['docker', 'native'] as const;

/**
 * Asks testcontainers for an engine the way it would start containers (DOCKER_HOST,
 * ~/.testcontainers.properties, the Docker socket, a rootless socket): an engine it cannot use
 * (an unreachable socket, a runtime it does not support) means no Docker, not a failed start.
 */
export async function probeContainerEngine(): Promise<EngineProbe> {
  try {
    await getContainerRuntimeClient();
    return { answers: true };
  } catch (error) {
    return { answers: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Which way the services come from. All of KAFKA_BROKERS, SCHEMA_REGISTRY_URL and DATABASE_URL
 * set: those, whatever else is set, since they name the services outright. Else SERVICES_RUNTIME
 * (`docker` or `native`) when set, and unset: Docker if an engine answers, else native. Some of
 * the three set (not empty) and not all is an error, and so is an unknown SERVICES_RUNTIME or
 * SERVICES_RUNTIME=docker with no engine answering. The engine is probed only when it decides.
 */
export async function servicesPath(env: NodeJS.ProcessEnv, probeEngine: () => Promise<EngineProbe>): Promise<ServicesPath> {
  // Some set and not the others is a half-finished setup: replacing it with local services
  // would run against other services than the ones named, and say so nowhere.
  const missing = SERVICE_VARIABLES.filter((name) => !env[name]);
  if (missing.length > 0 && missing.length < SERVICE_VARIABLES.length) {
    throw new Error(`KAFKA_BROKERS, SCHEMA_REGISTRY_URL and DATABASE_URL name the services to use: set all three, or none. Missing: ${missing.join(', ')}`);
  }
  if (missing.length === 0) return 'environment';
  const runtime = env.SERVICES_RUNTIME?.trim() ?? '';
  if (runtime !== '' && !(RUNTIMES as readonly string[]).includes(runtime)) {
    throw new Error(`SERVICES_RUNTIME is ${JSON.stringify(runtime)}: it must be docker or native, or unset to use Docker when an engine answers and native services otherwise.`);
  }
  if (runtime === 'native') return 'native';
  const engine = await probeEngine();
  if (engine.answers) return 'docker';
  if (runtime === 'docker') {
    throw new Error(
      `SERVICES_RUNTIME=docker, but no container engine answers (testcontainers: ${engine.reason}). ` +
        'Start Docker or point DOCKER_HOST at an engine, or run with SERVICES_RUNTIME=native.',
    );
  }
  return 'native';
}

/** The services `servicesPath` picks, started when they are not already running. */
export async function chooseServices(env: NodeJS.ProcessEnv = process.env): Promise<ChosenServices> {
  const path = await servicesPath(env, probeContainerEngine);
  if (path === 'environment') {
    return { kafkaBrokers: env.KAFKA_BROKERS!, schemaRegistryUrl: env.SCHEMA_REGISTRY_URL!, databaseUrl: env.DATABASE_URL!, path, how: 'from the environment', stop: async () => undefined };
  }
  if (path === 'docker') {
    const started = await startContainers(serviceImages(env));
    return {
      kafkaBrokers: started.kafkaBrokers,
      schemaRegistryUrl: started.schemaRegistryUrl,
      databaseUrl: started.databaseUrl,
      path,
      how: `Docker, testcontainers: ${started.images}`,
      postgresContainerId: started.postgresContainerId,
      stop: started.stop,
    };
  }
  const settings = serviceSettings(env);
  const native = await servicesUp(settings);
  return {
    kafkaBrokers: native.kafkaBrokers,
    schemaRegistryUrl: native.schemaRegistryUrl,
    databaseUrl: native.databaseUrl,
    path,
    how: `native, Kafka ${native.kafka}, registry ${native.registry}`,
    async stop() {
      await Promise.all([native.kafka === 'started' && stopKafka(settings), native.registry === 'started' && stopRegistry(settings)]);
    },
  };
}
