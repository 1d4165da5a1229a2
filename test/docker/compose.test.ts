import { freePort } from '../../scripts/harness/free-port';
import { IMAGE_VARIABLES, serviceImages } from '../../scripts/harness/images';
import { APP_IMAGE, buildAppImage, completeOneTrade, docker, dockerName, exitCode, run, since, untilReady, type CommandResult } from '../support/docker';
import { TEST_RELWORX_CALLBACK_URL, TEST_SECRETS } from '../support/receiver';

/**
 * docker-compose.yml as an operator runs it, with Debian's docker-compose 1.29 (the file keeps
 * to the Compose Specification, which Compose v2 reads the same way): every host port and the
 * images from the environment, the webhook secrets too.
 */
describe('docker-compose.yml', () => {
  const project = dockerName('apimg-compose');
  const timings: Record<string, number> = {};
  let env: NodeJS.ProcessEnv = {};

  const compose = (...args: string[]): Promise<CommandResult> => run('docker-compose', ['-p', project, ...args], { env, timeoutMs: 600_000 });

  afterAll(async () => {
    const down = await compose('down', '-v', '--remove-orphans', '--timeout', '10');
    if (down.code !== 0) console.log(`docker-compose down exited ${down.code}: ${down.stderr}`);
    console.log(`compose smoke timings (ms): ${JSON.stringify(timings)}`);
  }, 120_000);

  it('starts the system, which completes a signed trade, and stops the app services with exit 0 within the grace period', async () => {
    const started = performance.now();
    let step = performance.now();
    await buildAppImage();
    timings.build = since(step);

    const ports = { KAFKA_PORT: await freePort(), POSTGRES_PORT: await freePort(), REGISTRY_PORT: await freePort(), RECEIVER_PORT: await freePort(), PROCESSOR_PORT: await freePort() };
    const images = serviceImages();
    env = {
      PATH: process.env.PATH,
      ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
      ...Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, String(port)])),
      [IMAGE_VARIABLES.kafka]: images.kafka,
      [IMAGE_VARIABLES.registry]: images.registry,
      [IMAGE_VARIABLES.postgres]: images.postgres,
      [IMAGE_VARIABLES.node]: images.node,
      APP_IMAGE,
      ...TEST_SECRETS,
      RELWORX_CALLBACK_URL: TEST_RELWORX_CALLBACK_URL,
    };

    step = performance.now();
    const up = await compose('up', '-d');
    expect({ code: up.code, stderr: up.code === 0 ? '' : up.stderr }).toEqual({ code: 0, stderr: '' });
    const receiverUrl = `http://127.0.0.1:${ports.RECEIVER_PORT}`;
    await untilReady('the receiver ready', `${receiverUrl}/readyz`, 180_000);
    await untilReady('the processor ready', `http://127.0.0.1:${ports.PROCESSOR_PORT}/readyz`, 180_000);
    timings.upAndReady = since(step);

    step = performance.now();
    await completeOneTrade({
      receiverUrl,
      databaseUrl: `postgres://postgres@127.0.0.1:${ports.POSTGRES_PORT}/trade_webhooks`,
      kafkaBroker: `localhost:${ports.KAFKA_PORT}`,
      registryUrl: `http://127.0.0.1:${ports.REGISTRY_PORT}/apis/ccompat/v7`,
    });
    timings.tradeCompleted = since(step);

    const migrate = (await compose('ps', '-q', '-a', 'migrate')).stdout.trim();
    expect(await exitCode(migrate)).toBe(0);

    const appContainers = await Promise.all(['receiver', 'processor'].map(async (service) => [service, (await compose('ps', '-q', service)).stdout.trim()] as const));
    step = performance.now();
    const stop = await compose('stop', '--timeout', '10', 'receiver', 'processor');
    timings.stopAppServices = since(step);
    expect(stop.code).toBe(0);
    // Each stopped by itself, before `--timeout 10` would have killed it (exit 0 below); on a
    // loaded machine the stop has taken between 3.7 and 5.7 s.
    expect(timings.stopAppServices).toBeLessThan(9_000);
    for (const [service, container] of appContainers) {
      expect({ service, code: await exitCode(container), running: await docker('inspect', '--format', '{{.State.Running}}', container) }).toEqual({ service, code: 0, running: 'false' });
    }
    timings.total = since(started);
  }, 1_200_000);
});
