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
});
