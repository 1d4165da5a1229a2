import { chooseServices, probeContainerEngine, servicesPath, type EngineProbe, type ServicesPath } from '../../scripts/harness/choose-services';

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

describe('servicesPath', () => {
  const named = {
    KAFKA_BROKERS: 'kafka.invalid:9092',
    SCHEMA_REGISTRY_URL: 'http://registry.invalid:8081/apis/ccompat/v7',
    DATABASE_URL: 'postgres://postgres@postgres.invalid:5432/trade_webhooks',
  };
  const engine: EngineProbe = { answers: true };
  const noEngine: EngineProbe = { answers: false, reason: 'Could not find a working container runtime strategy' };

  it.each<[string, NodeJS.ProcessEnv, EngineProbe, ServicesPath, boolean]>([
    // name, environment, what the engine probe finds, the path, whether the engine was probed
    ['the environment when it names all three services', named, engine, 'environment', false],
    ['the environment over SERVICES_RUNTIME=docker', { ...named, SERVICES_RUNTIME: 'docker' }, noEngine, 'environment', false],
    ['the environment over SERVICES_RUNTIME=native', { ...named, SERVICES_RUNTIME: 'native' }, engine, 'environment', false],
    ['Docker when unset and an engine answers', {}, engine, 'docker', true],
    ['native when unset and no engine answers', {}, noEngine, 'native', true],
    ['Docker when SERVICES_RUNTIME is empty and an engine answers', { SERVICES_RUNTIME: ' ' }, engine, 'docker', true],
    ['Docker for SERVICES_RUNTIME=docker', { SERVICES_RUNTIME: 'docker' }, engine, 'docker', true],
    ['native for SERVICES_RUNTIME=native though an engine answers, without asking it', { SERVICES_RUNTIME: 'native' }, engine, 'native', false],
    ['native for SERVICES_RUNTIME=native when no engine answers', { SERVICES_RUNTIME: 'native' }, noEngine, 'native', false],
  ])('picks %s', async (_name, env, found, expected, probed) => {
    let probes = 0;
    const path = await servicesPath(env, async () => {
      probes += 1;
      return found;
    });

    expect(path).toBe(expected);
    expect(probes).toBe(probed ? 1 : 0);
  });

  it.each<[string, NodeJS.ProcessEnv, EngineProbe, string]>([
    ['an unknown SERVICES_RUNTIME', { SERVICES_RUNTIME: 'podman' }, engine, 'SERVICES_RUNTIME is "podman": it must be docker or native'],
    ['a SERVICES_RUNTIME in capitals', { SERVICES_RUNTIME: 'Docker' }, engine, 'SERVICES_RUNTIME is "Docker": it must be docker or native'],
    [
      'SERVICES_RUNTIME=docker with no engine answering, naming the cause',
      { SERVICES_RUNTIME: 'docker' },
      noEngine,
      'SERVICES_RUNTIME=docker, but no container engine answers (testcontainers: Could not find a working container runtime strategy)',
    ],
    ['a partial environment before SERVICES_RUNTIME', { KAFKA_BROKERS: named.KAFKA_BROKERS, SERVICES_RUNTIME: 'native' }, engine, 'Missing: SCHEMA_REGISTRY_URL, DATABASE_URL'],
  ])('refuses %s', async (_name, env, found, message) => {
    await expect(servicesPath(env, async () => found)).rejects.toThrow(message);
  });

  it('refuses an unknown SERVICES_RUNTIME from chooseServices before starting anything', async () => {
    await expect(chooseServices({ SERVICES_RUNTIME: 'kubernetes' })).rejects.toThrow('SERVICES_RUNTIME is "kubernetes"');
  });

  it('reports whether an engine answers without throwing, with the reason when none does', async () => {
    const probe = await probeContainerEngine();

    if (probe.answers) expect(probe).toEqual({ answers: true });
    else expect(probe.reason).not.toBe('');
  });
});
