import { spawnSync } from 'node:child_process';
import { servicesDown, servicesUp } from '../../scripts/harness/native';
import { kafkaAnswers } from '../../scripts/harness/native/kafka';
import { postgresAnswers } from '../../scripts/harness/native/postgres';
import { startContainers, type StartedContainers } from '../../scripts/harness/containers';

/** Shared with the global teardown, which runs in the same process. */
export interface HarnessState {
  containers?: StartedContainers;
  stopNative?: boolean;
}

declare global {
  // eslint-disable-next-line no-var
  var tradeWebhooksHarness: HarnessState | undefined;
}

function dockerAnswers(): boolean {
  const result = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 10_000, stdio: 'ignore' });
  return result.status === 0;
}

async function report(path: string): Promise<void> {
  const { KAFKA_BROKERS = '', SCHEMA_REGISTRY_URL = '', DATABASE_URL = '' } = process.env;
  const clusterId = await kafkaAnswers(KAFKA_BROKERS.split(','));
  const postgres = (await postgresAnswers(DATABASE_URL)).split(' on ')[0];
  console.log(
    `\nTest services (${path}): Kafka ${KAFKA_BROKERS} (cluster ${clusterId}), ` +
      `schema registry ${SCHEMA_REGISTRY_URL}, ${postgres}`,
  );
}

/**
 * Picks the services the tests run against: those named by the environment, else Docker
 * through testcontainers, else the native services of `npm run services:up`. Test files
 * read the choice from KAFKA_BROKERS, SCHEMA_REGISTRY_URL and DATABASE_URL.
 */
export default async function globalSetup(): Promise<void> {
  const state: HarnessState = {};
  globalThis.tradeWebhooksHarness = state;
  const { KAFKA_BROKERS, SCHEMA_REGISTRY_URL, DATABASE_URL } = process.env;
  if (KAFKA_BROKERS && SCHEMA_REGISTRY_URL && DATABASE_URL) {
    await report('from the environment');
    return;
  }
  if (dockerAnswers()) {
    state.containers = await startContainers();
    process.env.KAFKA_BROKERS = state.containers.kafkaBrokers;
    process.env.SCHEMA_REGISTRY_URL = state.containers.schemaRegistryUrl;
    process.env.DATABASE_URL = state.containers.databaseUrl;
    await report('Docker, testcontainers');
    return;
  }
  const native = await servicesUp();
  state.stopNative = native.kafka === 'started' || native.registry === 'started';
  process.env.KAFKA_BROKERS = native.kafkaBrokers;
  process.env.SCHEMA_REGISTRY_URL = native.schemaRegistryUrl;
  process.env.DATABASE_URL = native.databaseUrl;
  await report(`native, Kafka ${native.kafka}, registry ${native.registry}`);
}

export async function stopHarnessServices(): Promise<void> {
  const state = globalThis.tradeWebhooksHarness;
  if (!state) return;
  for (const container of state.containers?.containers ?? []) await container.stop();
  if (state.stopNative) await servicesDown();
}
