import { chooseServices } from '../../scripts/harness/choose-services';

describe('chooseServices', () => {
  // Addresses nothing answers on: the environment's services are taken as named, never probed.
  const env = {
    KAFKA_BROKERS: 'kafka.invalid:9092,kafka2.invalid:9092',
    SCHEMA_REGISTRY_URL: 'http://registry.invalid:8081/apis/ccompat/v7',
    DATABASE_URL: 'postgres://postgres@postgres.invalid:5432/trade_webhooks',
  };

  it('takes the services named by the environment when all three are set, and stops nothing', async () => {
    const services = await chooseServices(env);

    expect(services).toMatchObject({
      kafkaBrokers: env.KAFKA_BROKERS,
      schemaRegistryUrl: env.SCHEMA_REGISTRY_URL,
      databaseUrl: env.DATABASE_URL,
      how: 'from the environment',
    });
    await expect(services.stop()).resolves.toBeUndefined();
  });

  it.each<[string, Partial<typeof env>, string]>([
    ['only KAFKA_BROKERS', { KAFKA_BROKERS: env.KAFKA_BROKERS }, 'SCHEMA_REGISTRY_URL, DATABASE_URL'],
    ['KAFKA_BROKERS and SCHEMA_REGISTRY_URL', { KAFKA_BROKERS: env.KAFKA_BROKERS, SCHEMA_REGISTRY_URL: env.SCHEMA_REGISTRY_URL }, 'DATABASE_URL'],
    ['only DATABASE_URL', { DATABASE_URL: env.DATABASE_URL }, 'KAFKA_BROKERS, SCHEMA_REGISTRY_URL'],
    ['two, and the third empty', { ...env, SCHEMA_REGISTRY_URL: '' }, 'SCHEMA_REGISTRY_URL'],
  ])('refuses %s, naming the missing ones, instead of starting services of its own', async (_name, partial, missing) => {
    await expect(chooseServices(partial)).rejects.toThrow(
      `KAFKA_BROKERS, SCHEMA_REGISTRY_URL and DATABASE_URL name the services to use: set all three, or none. Missing: ${missing}`,
    );
  });
});
