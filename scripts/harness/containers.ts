import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { PostgreSqlContainer } from '@testcontainers/postgresql';
import { kafkaImageEnvironment, singleNodeBroker } from './broker-config';
import { freePort } from './free-port';
import { APICURIO_VERSION, KAFKA_VERSION } from './native/settings';

export interface StartedContainers {
  readonly kafkaBrokers: string;
  readonly schemaRegistryUrl: string;
  readonly databaseUrl: string;
  readonly containers: StartedTestContainer[];
}

/**
 * The services of docker-compose.yml, on testcontainers, the broker with the shared
 * configuration (broker-config.ts). Kafka is published on a host port equal to its container
 * port, so the address it advertises is the one clients reach.
 */
export async function startContainers(): Promise<StartedContainers> {
  const kafkaPort = await freePort();
  const kafka = await new GenericContainer(`apache/kafka:${KAFKA_VERSION}`)
    .withExposedPorts({ container: kafkaPort, host: kafkaPort })
    .withEnvironment(kafkaImageEnvironment(singleNodeBroker({ bindHost: '0.0.0.0', advertisedHost: 'localhost', port: kafkaPort, controllerPort: 9093 })))
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .start();
  const registry = await new GenericContainer(`apicurio/apicurio-registry:${APICURIO_VERSION}`)
    .withExposedPorts(8080)
    .withEnvironment({ APICURIO_RULES_GLOBAL_COMPATIBILITY: 'BACKWARD' })
    .withWaitStrategy(Wait.forHttp('/apis/ccompat/v7/subjects', 8080).forStatusCode(200))
    .start();
  const postgres = await new PostgreSqlContainer('postgres:16').withDatabase('trade_webhooks').start();
  return {
    kafkaBrokers: `localhost:${kafkaPort}`,
    schemaRegistryUrl: `http://${registry.getHost()}:${registry.getMappedPort(8080)}/apis/ccompat/v7`,
    databaseUrl: postgres.getConnectionUri(),
    containers: [kafka, registry, postgres],
  };
}
