import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKafka, stopKafka } from '../../scripts/harness/native/kafka';
import { runningProcess } from '../../scripts/harness/native/processes';
import { serviceSettings, type ServiceSettings } from '../../scripts/harness/native/settings';
import { onCleanup } from './cleanup';
import { freePort } from '../../scripts/harness/free-port';

/**
 * A Kafka broker of the test's own (native, on free ports), for tests that stop, kill and
 * restart the broker without disturbing the one the other tests share.
 */
export interface OwnBroker {
  readonly brokers: string[];
  start(): Promise<void>;
  /** kill -9: no controlled shutdown, as in a crash. */
  kill(): void;
}

export async function ownBroker(): Promise<OwnBroker> {
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
    kill() {
      const running = runningProcess(stateDir, 'kafka');
      if (!running) throw new Error('the test broker is not running');
      process.kill(-running.pid, 'SIGKILL');
    },
  };
}
