import { randomBytes } from 'node:crypto';
import { servicesUp } from '../harness/native';
import { stopKafka } from '../harness/native/kafka';
import { stopRegistry } from '../harness/native/registry';
import { serviceSettings } from '../harness/native/settings';

export interface BenchServices {
  readonly kafkaBrokers: string;
  readonly schemaRegistryUrl: string;
  readonly databaseUrl: string;
  /** Stops the native services this run started; services that were already up stay up. */
  release(): Promise<void>;
}

/** The services named by the environment, else the native ones (started if needed). */
export async function benchServices(): Promise<BenchServices> {
  const { KAFKA_BROKERS, SCHEMA_REGISTRY_URL, DATABASE_URL } = process.env;
  if (KAFKA_BROKERS && SCHEMA_REGISTRY_URL && DATABASE_URL) {
    return { kafkaBrokers: KAFKA_BROKERS, schemaRegistryUrl: SCHEMA_REGISTRY_URL, databaseUrl: DATABASE_URL, release: async () => undefined };
  }
  const native = await servicesUp();
  return {
    kafkaBrokers: native.kafkaBrokers,
    schemaRegistryUrl: native.schemaRegistryUrl,
    databaseUrl: native.databaseUrl,
    async release() {
      const settings = serviceSettings();
      await Promise.all([native.kafka === 'started' && stopKafka(settings), native.registry === 'started' && stopRegistry(settings)]);
    },
  };
}

export const BENCH_SECRETS = Object.freeze({
  BUY_WEBHOOK_SECRET: 'bench-buy-secret-0123456789abcdef0123',
  SELL_WEBHOOK_SECRET: 'bench-sell-secret-0123456789abcdef0123',
  TRADE_WEBHOOK_SECRET: 'bench-trade-secret-0123456789abcdef012',
  RELWORX_WEBHOOK_SECRET: 'bench-relworx-secret-0123456789abcdef0',
});

export function benchName(prefix: string): string {
  return `bench_${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

export function integerEnv(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number`);
  return value;
}
