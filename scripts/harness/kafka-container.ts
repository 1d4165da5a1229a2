import { GenericContainer, getContainerRuntimeClient, Wait, type StartedNetwork, type StartedTestContainer } from 'testcontainers';
import { kafkaImageEnvironment, singleNodeBroker } from './broker-config';
import { freePort } from './free-port';
import { kafkaAnswers, warmUp } from './native/kafka-client';
import { waitUntil } from './native/wait-until';

/** The broker's controller listener, inside the container: never published. */
const CONTROLLER_PORT = 9093;
/** The client listener for containers on the broker's network, under its alias. */
const NETWORK_PORT = 29092;
const START_TIMEOUT_MS = 120_000;

/** The address the engine publishes containers' ports on, as testcontainers reaches them. */
export async function containerHost(): Promise<string> {
  return (await getContainerRuntimeClient()).info.containerRuntime.host;
}

export interface KafkaContainer {
  readonly container: StartedTestContainer;
  readonly brokers: string[];
  /** Where containers on `network` reach the broker, when one was given. */
  readonly networkBrokers?: string[];
}

export interface KafkaContainerOptions {
  /** The host port, equal to the container port (default: a free one). */
  readonly hostPort?: number;
  /** A network to join as `alias`, with a second listener for the containers on it. */
  readonly network?: { readonly network: StartedNetwork; readonly alias: string };
}

/**
 * A single-node broker (broker-config.ts's configuration) in `image`, which keeps apache/kafka's
 * contract. It is published on a host port equal to its container port, so the address it
 * advertises (the engine's host) is the one clients reach, and a restarted container
 * (`restartContainer`) is found where it was. On a network, containers there reach it by its
 * alias on a listener of their own: the engine's host is not the broker from inside one. Ready
 * once it takes idempotent produces and consumer groups, as the native broker.
 */
export async function startKafkaContainer(image: string, options: KafkaContainerOptions = {}): Promise<KafkaContainer> {
  const [host, port] = [await containerHost(), options.hostPort ?? (await freePort())];
  const joined = options.network;
  const listener = joined ? { host: joined.alias, port: NETWORK_PORT } : undefined;
  let definition = new GenericContainer(image)
    .withExposedPorts({ container: port, host: port })
    .withEnvironment(kafkaImageEnvironment(singleNodeBroker({ bindHost: '0.0.0.0', advertisedHost: host, port, controllerPort: CONTROLLER_PORT, controllerHost: 'localhost', network: listener })))
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .withStartupTimeout(START_TIMEOUT_MS);
  if (joined) definition = definition.withNetwork(joined.network).withNetworkAliases(joined.alias);
  const container = await definition.start();
  const brokers = [`${host}:${port}`];
  try {
    await kafkaReady(brokers);
  } catch (error) {
    await container.stop();
    throw error;
  }
  return { container, brokers, ...(listener ? { networkBrokers: [`${listener.host}:${listener.port}`] } : {}) };
}

/** Waits until the broker at `brokers` answers and takes idempotent produces and consumer groups. */
export async function kafkaReady(brokers: string[]): Promise<void> {
  await waitUntil('Kafka (container)', () => kafkaAnswers(brokers), { timeoutMs: START_TIMEOUT_MS });
  await waitUntil('Kafka (container) taking idempotent produces (acks=all) and consumer groups', () => warmUp({ bootstrap: brokers, client: {}, env: {} }, 1), {
    timeoutMs: START_TIMEOUT_MS,
  });
}

/** kill -9 of the broker's process: no controlled shutdown, as in a crash. The container and its data stay. */
export async function killContainer(id: string): Promise<void> {
  const client = await getContainerRuntimeClient();
  await client.container.getById(id).kill({ signal: 'SIGKILL' });
}

/** Starts a stopped or killed container again, on the host ports it was published on. */
export async function restartContainer(id: string): Promise<void> {
  const client = await getContainerRuntimeClient();
  await client.container.getById(id).start();
}
