import { BROKER_SETTINGS, kafkaImageEnvironment } from '../../scripts/harness/broker-config';
import { freePort } from '../../scripts/harness/free-port';
import { serviceImages } from '../../scripts/harness/images';
import { registryEnvironment } from '../../scripts/harness/native/registry';
import { APP_IMAGE, buildAppImage, completeOneTrade, docker, dockerName, exitCode, ROOT, run, since, untilReady } from '../support/docker';
import { TEST_RELWORX_CALLBACK_URL, TEST_SECRETS } from '../support/receiver';
import { waitFor } from '../support/wait-for';

/** `-e NAME=value` for each entry. */
const envArgs = (env: Record<string, string>): string[] => Object.entries(env).flatMap(([name, value]) => ['-e', `${name}=${value}`]);

/** The host port Docker published `port` of `container` on. */
async function publishedPort(container: string, port: number): Promise<number> {
  const line = await docker('port', container, String(port));
  return Number(line.split('\n')[0]!.split(':').pop());
}

describe('the app image, with the service images, on a network of its own', () => {
  const name = dockerName('apimg');
  const network = name;
  const containers: string[] = [];
  const images = serviceImages();
  const timings: Record<string, number> = {};

  /** Starts a detached container on the test's network, removed in afterAll. */
  async function start(role: string, args: string[]): Promise<string> {
    const container = `${name}-${role}`;
    containers.push(container);
    await docker('run', '-d', '--name', container, '--network', network, '--network-alias', role, ...args);
    return container;
  }

  afterAll(async () => {
    for (const container of containers.reverse()) {
      const logs = await run('docker', ['logs', '--tail', '30', container]);
      if (logs.code === 0 && process.env.SMOKE_LOGS) console.log(`${container}:\n${logs.stdout}${logs.stderr}`);
      await run('docker', ['rm', '-f', '-v', container]);
    }
    await run('docker', ['network', 'rm', network]);
    console.log(`app-image smoke timings (ms): ${JSON.stringify(timings)}`);
  }, 120_000);

  it('migrates, accepts a signed webhook, completes the trade, notifies, and stops with exit 0 on docker stop', async () => {
    const started = performance.now();
    let step = performance.now();
    await buildAppImage();
    timings.build = since(step);

    step = performance.now();
    await docker('network', 'create', network);
    const kafkaPort = await freePort();
    const postgres = await start('postgres', [
      ...envArgs({ POSTGRES_USER: 'postgres', POSTGRES_HOST_AUTH_METHOD: 'trust', POSTGRES_DB: 'trade_webhooks' }),
      '-v', `${ROOT}/scripts/harness/compose/create-registry-database.sql:/docker-entrypoint-initdb.d/create-registry-database.sql:ro`,
      '-p', '127.0.0.1::5432',
      images.postgres,
    ]);
    await start('kafka', [
      ...envArgs({
        ...kafkaImageEnvironment({
          ...BROKER_SETTINGS,
          // Two client listeners, as in docker-compose.yml: one for the containers, one published to the host on the same port.
          listeners: `INTERNAL://0.0.0.0:29092,HOST://0.0.0.0:${kafkaPort},CONTROLLER://0.0.0.0:9093`,
          'advertised.listeners': `INTERNAL://kafka:29092,HOST://localhost:${kafkaPort}`,
          'listener.security.protocol.map': 'INTERNAL:PLAINTEXT,HOST:PLAINTEXT,CONTROLLER:PLAINTEXT',
          'inter.broker.listener.name': 'INTERNAL',
          'controller.quorum.voters': `${BROKER_SETTINGS['node.id']}@localhost:9093`,
        }),
      }),
      '-p', `127.0.0.1:${kafkaPort}:${kafkaPort}`,
      images.kafka,
    ]);
    // The registry's storage is PostgreSQL: it starts once the database accepts connections over TCP.
    await waitFor('PostgreSQL over TCP', async () => ((await run('docker', ['exec', postgres, 'pg_isready', '-h', '127.0.0.1', '-U', 'postgres', '-d', 'trade_webhooks'])).code === 0 ? true : undefined), 120_000);
    timings.postgres = since(step);
    const registry = await start('registry', [
      ...envArgs(registryEnvironment({ url: 'jdbc:postgresql://postgres:5432/apicurio_registry', username: 'postgres' })),
      '-p', '127.0.0.1::8080',
      images.registry,
    ]);
    const registryUrl = `http://127.0.0.1:${await publishedPort(registry, 8080)}/apis/ccompat/v7`;
    const databaseUrl = `postgres://postgres@127.0.0.1:${await publishedPort(postgres, 5432)}/trade_webhooks`;

    // The migrations run in the app image and wait for the database themselves.
    step = performance.now();
    const migrate = await run('docker', ['run', '--rm', '--init', '--network', network, '-e', 'DATABASE_URL=postgres://postgres@postgres:5432/trade_webhooks', APP_IMAGE, 'node', 'dist/processor/migrate.js']);
    expect(migrate).toEqual(expect.objectContaining({ code: 0, stdout: expect.stringMatching(/Applied batch 1: .*create_trades_and_transactions.*create_webhook_events_and_outbox/) }));
    timings.migrate = since(step);

    // Kafka and the registry may still be starting: the services wait for them.
    step = performance.now();
    const services = { KAFKA_BROKERS: 'kafka:29092', SCHEMA_REGISTRY_URL: 'http://registry:8080/apis/ccompat/v7' };
    const processor = await start('processor', [
      '--init', ...envArgs({ ...services, DATABASE_URL: 'postgres://postgres@postgres:5432/trade_webhooks' }), '-p', '127.0.0.1::8001', APP_IMAGE, 'node', 'dist/processor/main.js',
    ]);
    const receiver = await start('receiver', [
      '--init', ...envArgs({ ...services, ...TEST_SECRETS, RELWORX_CALLBACK_URL: TEST_RELWORX_CALLBACK_URL }), '-p', '127.0.0.1::8000', APP_IMAGE, 'node', 'dist/receiver/main.js',
    ]);
    const receiverUrl = `http://127.0.0.1:${await publishedPort(receiver, 8000)}`;
    await untilReady('the receiver ready', `${receiverUrl}/readyz`, 180_000);
    await untilReady('the processor ready', `http://127.0.0.1:${await publishedPort(processor, 8001)}/readyz`, 180_000);
    timings.servicesReady = since(step);

    step = performance.now();
    await completeOneTrade({ receiverUrl, databaseUrl, kafkaBroker: `localhost:${kafkaPort}`, registryUrl });
    timings.tradeCompleted = since(step);

    // docker stop sends SIGTERM and kills after 10 s: a clean stop is exit 0, well before that.
    for (const container of [receiver, processor]) {
      step = performance.now();
      await docker('stop', '--time', '10', container);
      const stopMs = since(step);
      timings[`stop-${container.slice(name.length + 1)}`] = stopMs;
      expect({ container, code: await exitCode(container) }).toEqual({ container, code: 0 });
      expect(stopMs).toBeLessThan(5_000);
    }
    timings.total = since(started);
  }, 1_200_000);
});
