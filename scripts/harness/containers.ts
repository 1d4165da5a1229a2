import { randomBytes } from 'node:crypto';
import { GenericContainer, Wait, type StartedNetwork, type StartedTestContainer } from 'testcontainers';
import { freePort } from './free-port';
import { serviceImages, type ServiceImages } from './images';
import { startKafkaContainer } from './kafka-container';

/** Where the services are reached from: the host, or a container on their network. */
export interface ServiceAddresses {
  readonly kafkaBrokers: string;
  readonly schemaRegistryUrl: string;
  readonly databaseUrl: string;
}

export interface StartedContainers extends ServiceAddresses {
  /** The addresses for containers on the network they were started on, when one was given. */
  readonly inNetwork?: ServiceAddresses;
  /** The PostgreSQL container's id, for tests that stop and start the database under test. */
  readonly postgresContainerId: string;
  /** The images they run, for the report of what the tests ran against. */
  readonly images: string;
  /** Stops every container, each even if stopping another fails. */
  stop(): Promise<void>;
}

const POSTGRES_PORT = 5432;
const REGISTRY_PORT = 8080;
/** The names the services have on their network: docker-compose.yml's service names. */
const ALIASES = { kafka: 'kafka', registry: 'registry', postgres: 'postgres' } as const;

interface StartedService {
  readonly container: StartedTestContainer;
  readonly url: string;
  /** The URL for containers on the network, when one was given. */
  readonly networkUrl?: string;
}

/** `definition` on `network` as `alias`, when there is a network. */
function joining(definition: GenericContainer, network: StartedNetwork | undefined, alias: string): GenericContainer {
  return network ? definition.withNetwork(network).withNetworkAliases(alias) : definition;
}

async function startRegistry(image: string, network?: StartedNetwork): Promise<StartedService> {
  const definition = new GenericContainer(image)
    .withExposedPorts(REGISTRY_PORT)
    .withEnvironment({ APICURIO_RULES_GLOBAL_COMPATIBILITY: 'BACKWARD' })
    .withWaitStrategy(Wait.forHttp('/apis/ccompat/v7/subjects', REGISTRY_PORT).forStatusCode(200))
    .withStartupTimeout(120_000);
  const container = await joining(definition, network, ALIASES.registry).start();
  return {
    container,
    url: `http://${container.getHost()}:${container.getMappedPort(REGISTRY_PORT)}/apis/ccompat/v7`,
    ...(network ? { networkUrl: `http://${ALIASES.registry}:${REGISTRY_PORT}/apis/ccompat/v7` } : {}),
  };
}

/**
 * PostgreSQL with the postgres image's contract. Published on a fixed free host port, so a
 * container stopped and started again (a database outage) is found at the same address.
 */
async function startPostgres(image: string, network?: StartedNetwork): Promise<StartedService> {
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const database = 'trade_webhooks';
  const definition = new GenericContainer(image)
    .withExposedPorts({ container: POSTGRES_PORT, host: port })
    .withEnvironment({ POSTGRES_USER: 'postgres', POSTGRES_PASSWORD: password, POSTGRES_DB: database })
    // Ready once it answers over TCP: the image's entrypoint first runs a server on the socket
    // only, to initialise the database, and restarts it.
    .withHealthCheck({ test: ['CMD-SHELL', `pg_isready --host 127.0.0.1 --username postgres --dbname ${database}`], interval: 250, timeout: 1000, retries: 480 })
    .withWaitStrategy(Wait.forHealthCheck())
    .withStartupTimeout(120_000);
  const container = await joining(definition, network, ALIASES.postgres).start();
  return {
    container,
    url: `postgres://postgres:${password}@${container.getHost()}:${port}/${database}`,
    ...(network ? { networkUrl: `postgres://postgres:${password}@${ALIASES.postgres}:${POSTGRES_PORT}/${database}` } : {}),
  };
}

/** Stops every container, each even if another fails; the failures together afterwards. */
export async function stopAll(containers: ReadonlyArray<{ stop(): Promise<unknown> }>): Promise<void> {
  const failed = (await Promise.allSettled(containers.map((container) => container.stop()))).filter((result) => result.status === 'rejected');
  if (failed.length > 0) throw new AggregateError(failed.map((result) => result.reason), `${failed.length} of ${containers.length} containers did not stop`);
}

/** A failed start that says which service and image: the engine's own errors name neither. */
export function naming<T>(service: string, image: string, starting: Promise<T>): Promise<T> {
  return starting.catch((error: unknown) => {
    throw new Error(`${service} (image ${image}) did not start in a container: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  });
}

/**
 * The services of docker-compose.yml, on testcontainers, in `images`, started together; on
 * `network` too, when given, under docker-compose.yml's service names. If one fails to start,
 * the others are stopped: nothing reaps them later.
 */
export async function startContainers(images: ServiceImages = serviceImages(), network?: StartedNetwork): Promise<StartedContainers> {
  const [kafka, registry, postgres] = await Promise.allSettled([
    naming('Kafka', images.kafka, startKafkaContainer(images.kafka, network ? { network: { network, alias: ALIASES.kafka } } : {})),
    naming('The schema registry', images.registry, startRegistry(images.registry, network)),
    naming('PostgreSQL', images.postgres, startPostgres(images.postgres, network)),
  ]);
  const started = [kafka, registry, postgres].flatMap((result) => (result.status === 'fulfilled' ? [result.value.container] : []));
  if (kafka.status === 'rejected' || registry.status === 'rejected' || postgres.status === 'rejected') {
    await stopAll(started).catch(() => undefined);
    const failures = [kafka, registry, postgres].flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
    throw failures.length === 1 ? failures[0] : new AggregateError(failures, 'the service containers did not start');
  }
  return {
    kafkaBrokers: kafka.value.brokers.join(','),
    schemaRegistryUrl: registry.value.url,
    databaseUrl: postgres.value.url,
    ...(network
      ? { inNetwork: { kafkaBrokers: kafka.value.networkBrokers!.join(','), schemaRegistryUrl: registry.value.networkUrl!, databaseUrl: postgres.value.networkUrl! } }
      : {}),
    postgresContainerId: postgres.value.container.getId(),
    images: [images.kafka, images.registry, images.postgres].join(', '),
    stop: () => stopAll(started),
  };
}
