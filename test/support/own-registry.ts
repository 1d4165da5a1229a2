import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropDatabase } from '../../scripts/harness/native/postgres';
import { isAlive, runningProcess } from '../../scripts/harness/native/processes';
import { registryUrl, startRegistry, stopRegistry } from '../../scripts/harness/native/registry';
import { registryDatabaseOf, serviceSettings, type ServiceSettings } from '../../scripts/harness/native/settings';
import { freePort } from '../../scripts/harness/free-port';
import { serviceEndpoints } from '../setup/service-endpoints';
import { onCleanup } from './cleanup';
import { uniqueName } from './names';

/**
 * A schema registry of the test's own (native, on free ports, storing schemas in a fresh
 * database on the test PostgreSQL), for tests that stop, kill and restart the registry without
 * disturbing the one the other tests share.
 */
export interface OwnRegistry {
  /** The Confluent-compatible API's URL. */
  readonly url: string;
  /** The database it keeps its schemas in. */
  readonly databaseUrl: string;
  /** Starts it and waits until it answers. */
  start(): Promise<void>;
  /** SIGTERM, as an orchestrator stops it; resolves once it has exited. */
  stop(): Promise<void>;
  /** kill -9: no shutdown hook runs, as in a crash or an OOM kill; resolves once it is gone. */
  kill(): Promise<void>;
}

export async function ownRegistry(): Promise<OwnRegistry> {
  const stateDir = mkdtempSync(join(tmpdir(), 'trade-webhooks-registry-'));
  const databaseUrl = new URL(registryDatabaseOf(serviceEndpoints().databaseUrl));
  databaseUrl.pathname = `/${uniqueName('registry')}`;
  const settings: ServiceSettings = {
    ...serviceSettings(),
    stateDir,
    registryPort: await freePort(),
    registryManagementPort: await freePort(),
    registryDatabaseUrl: databaseUrl.toString(),
  };
  onCleanup(async () => {
    await stopRegistry(settings);
    await dropDatabase(settings.registryDatabaseUrl);
    rmSync(stateDir, { recursive: true, force: true });
  });
  return {
    url: registryUrl(settings),
    databaseUrl: settings.registryDatabaseUrl,
    async start() {
      await startRegistry(settings);
    },
    async stop() {
      await stopRegistry(settings);
    },
    async kill() {
      const running = runningProcess(stateDir, 'registry');
      if (!running) throw new Error('the test registry is not running');
      process.kill(-running.pid, 'SIGKILL');
      while (isAlive(running.pid)) await new Promise((resolve) => setTimeout(resolve, 50));
    },
  };
}
