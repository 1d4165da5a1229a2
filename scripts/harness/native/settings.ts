import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Versions pinned for the native services; docker-compose.yml pins the same ones. */
export const KAFKA_VERSION = '4.1.2';
export const APICURIO_VERSION = '3.3.3';

export interface ServiceSettings {
  readonly root: string;
  /** Downloaded artifacts, shared by every clone on this machine and kept between runs. */
  readonly cacheDir: string;
  /** Data, logs and pid files of the services this clone started. */
  readonly stateDir: string;
  readonly kafkaPort: number;
  readonly kafkaControllerPort: number;
  readonly registryPort: number;
  readonly registryManagementPort: number;
  readonly databaseUrl: string;
  /** Where the schema registry keeps its schemas: a database of its own, apart from the services' data. */
  readonly registryDatabaseUrl: string;
  readonly startTimeoutMs: number;
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new Error(`${name} must be a TCP port (1-65535), got "${raw}"`);
  }
  return value;
}

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/trade_webhooks';

/** The registry's database on the server (and as the user) of `databaseUrl`. */
export function registryDatabaseOf(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.pathname = '/apicurio_registry';
  return url.toString();
}

export function serviceSettings(env: NodeJS.ProcessEnv = process.env): ServiceSettings {
  const root = resolve(__dirname, '..', '..', '..');
  return Object.freeze({
    root,
    cacheDir: env.SERVICES_CACHE_DIR || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'trade-webhooks'),
    stateDir: env.SERVICES_STATE_DIR || join(root, '.services'),
    kafkaPort: port(env, 'SERVICES_KAFKA_PORT', 9092),
    kafkaControllerPort: port(env, 'SERVICES_KAFKA_CONTROLLER_PORT', 9093),
    registryPort: port(env, 'SERVICES_REGISTRY_PORT', 8081),
    registryManagementPort: port(env, 'SERVICES_REGISTRY_MANAGEMENT_PORT', 9001),
    databaseUrl: env.DATABASE_URL || DEFAULT_DATABASE_URL,
    registryDatabaseUrl: env.SERVICES_REGISTRY_DATABASE_URL || registryDatabaseOf(env.DATABASE_URL || DEFAULT_DATABASE_URL),
    startTimeoutMs: Number(env.SERVICES_START_TIMEOUT_MS || 120_000),
  });
}
