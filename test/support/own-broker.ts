import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StartedTestContainer } from 'testcontainers';
import { freePort } from '../../scripts/harness/free-port';
import { serviceImages } from '../../scripts/harness/images';
import { containerHost, kafkaReady, killContainer, restartContainer, startKafkaContainer } from '../../scripts/harness/kafka-container';
import { startKafka, stopKafka } from '../../scripts/harness/native/kafka';
import { runningProcess } from '../../scripts/harness/native/processes';
import { serviceSettings, type ServiceSettings } from '../../scripts/harness/native/settings';
import { servicesStartedBy } from '../setup/service-endpoints';
import { onCleanup } from './cleanup';

/**
 * A Kafka broker of the test's own, on a free port, for tests that stop, kill and restart the
 * broker without disturbing the one the other tests share: a container where the test services
 * are containers, else a native broker.
 */
export interface OwnBroker {
  readonly brokers: string[];
  /** Starts it, the first time or after `kill`, on the same port, and waits until it serves. */
  start(): Promise<void>;
  /** kill -9: no controlled shutdown, as in a crash. */
  kill(): Promise<void>;
}

export function ownBroker(): Promise<OwnBroker> {
  return servicesStartedBy() === 'docker' ? containerBroker() : nativeBroker();
}

async function nativeBroker(): Promise<OwnBroker> {
  const stateDir = mkdtempSync(join(tmpdir(), 'trade-webhooks-broker-'));
  const settings: ServiceSettings = {
    ...serviceSettings(),
    stateDir,
    kafkaPort: await freePort(),
    kafkaControllerPort: await freePort(),
    kafkaBrokerCount: 1,
    kafkaSecurity: 'plaintext',
  };
  onCleanup(async () => {
    await stopKafka(settings);
    rmSync(stateDir, { recursive: true, force: true });
  });
  return {
    brokers: [`127.0.0.1:${settings.kafkaPort}`],
    async start() {
      await startKafka(settings);
    },
    async kill() {
      const running = runningProcess(stateDir, 'kafka');
      if (!running) throw new Error('the test broker is not running');
      process.kill(-running.pid, 'SIGKILL');
    },
  };
}

/** The container is made by the first start; later starts start it again, with its data, on the same host port. */
async function containerBroker(): Promise<OwnBroker> {
  const port = await freePort();
  const brokers = [`${await containerHost()}:${port}`];
  let container: StartedTestContainer | undefined;
  onCleanup(() => container?.stop());
  return {
    brokers,
    async start() {
      if (!container) {
        container = (await startKafkaContainer(serviceImages().kafka, { hostPort: port })).container;
        return;
      }
      await restartContainer(container.getId());
      await kafkaReady(brokers);
    },
    async kill() {
      if (!container) throw new Error('the test broker is not running');
      await killContainer(container.getId());
    },
  };
}
