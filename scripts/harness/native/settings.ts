import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { KafkaSecurity } from '../broker-config';

/** Versions pinned for the native services; docker-compose.yml pins the same ones. */
export const KAFKA_VERSION = '4.1.2';
export const APICURIO_VERSION = '3.3.3';

export interface ServiceSettings {
  readonly root: string;
  /** Downloaded artifacts, shared by every clone on this machine and kept between runs. */
  readonly cacheDir: string;
  /** Data, logs and pid files of the services this clone started. */
  readonly stateDir: string;
  /** The first broker's client port; see kafka.ts for the others'. */
  readonly kafkaPort: number;
  readonly kafkaControllerPort: number;
  /** 1: a single node that is broker and controller; more: that many brokers and a controller node. */
  readonly kafkaBrokerCount: number;
  readonly kafkaSecurity: KafkaSecurity;
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

/** More brokers than this do not fit a development machine, and their ports would reach other services'. */
const MAX_KAFKA_BROKERS = 9;

function brokerCount(env: NodeJS.ProcessEnv): number {
  const raw = env.SERVICES_KAFKA_BROKERS;
  if (raw === undefined || raw === '') return 1;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > MAX_KAFKA_BROKERS) {
    throw new Error(`SERVICES_KAFKA_BROKERS must be a number of brokers from 1 to ${MAX_KAFKA_BROKERS}, got "${raw}"`);
  }
  return value;
}

function security(env: NodeJS.ProcessEnv): KafkaSecurity {
  const raw = (env.SERVICES_KAFKA_SECURITY || 'plaintext').toLowerCase();
  if (raw !== 'plaintext' && raw !== 'sasl_ssl') throw new Error(`SERVICES_KAFKA_SECURITY must be plaintext or sasl_ssl, got "${env.SERVICES_KAFKA_SECURITY}"`);
  return raw;
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
    kafkaBrokerCount: brokerCount(env),
    kafkaSecurity: security(env),
    registryPort: port(env, 'SERVICES_REGISTRY_PORT', 8081),
    registryManagementPort: port(env, 'SERVICES_REGISTRY_MANAGEMENT_PORT', 9001),
    databaseUrl: env.DATABASE_URL || DEFAULT_DATABASE_URL,
    registryDatabaseUrl: env.SERVICES_REGISTRY_DATABASE_URL || registryDatabaseOf(env.DATABASE_URL || DEFAULT_DATABASE_URL),
    startTimeoutMs: Number(env.SERVICES_START_TIMEOUT_MS || 120_000),
  });
}
