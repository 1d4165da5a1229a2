import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { signPayload } from '../../schemas/signatures';
import { createTopicsWithLeaders } from '../../platform/topics';
import { serviceEndpoints } from '../setup/service-endpoints';
import { testAdmin, testKafka } from '../support/kafka';
import { onCleanup } from '../support/cleanup';
import { uniqueName } from '../support/names';
import { freePort } from '../../scripts/harness/free-port';
import { TEST_RELWORX_CALLBACK_URL, TEST_SECRETS } from '../support/receiver';
import { readTopic } from '../support/topic-reader';
import { logLines } from '../support/log-lines';
import { CONNECTION_FAILURES } from '../../platform/connection-failures';
import { unusableKafkaConnections } from '../support/unusable-kafka';
import { waitFor, withinDeadline } from '../support/wait-for';
import { startKafkaProxy } from '../support/kafka-proxy';
import { secretVolume } from '../support/secret-volume';
import { startProjectProcess } from '../../scripts/harness/project-process';

const root = join(__dirname, '..', '..');

/**
 * The receiver as a process of its own: the test secrets, the shared services, a topic and a
 * free port of its own, unless `env` says otherwise. Its output is kept per stream and interleaved.
 */
async function startReceiver(env: NodeJS.ProcessEnv = {}) {
  const endpoints = serviceEndpoints();
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const child = spawn(process.execPath, [join(root, 'node_modules', '.bin', 'tsx'), 'receiver/main.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      ...TEST_SECRETS,
      RELWORX_CALLBACK_URL: TEST_RELWORX_CALLBACK_URL,
      KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: endpoints.schemaRegistryUrl,
      WEBHOOK_EVENTS_TOPIC: uniqueName('receiver'),
      PORT: String(port),
      HOST: '127.0.0.1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  onCleanup(() => child.exitCode === null && child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  let output = '';
  child.stdout.on('data', (chunk) => ((stdout += chunk), (output += chunk)));
  child.stderr.on('data', (chunk) => ((stderr += chunk), (output += chunk)));
  return { child, port, stdout: () => stdout, stderr: () => stderr, output: () => output };
}

describe('npm run receiver', () => {
  it('refuses to start without its secrets or the Relworx callback URL, naming each missing one', async () => {
    const child = spawn(process.execPath, [join(root, 'node_modules', '.bin', 'tsx'), 'receiver/main.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH, BUY_WEBHOOK_SECRET: TEST_SECRETS.BUY_WEBHOOK_SECRET },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(stderr).toContain('SELL_WEBHOOK_SECRET is required');
    expect(stderr).toContain('TRADE_WEBHOOK_SECRET is required');
    expect(stderr).toContain('RELWORX_WEBHOOK_SECRET is required');
    expect(stderr).toContain('RELWORX_CALLBACK_URL is required');
  });

  it('creates its topic, accepts a webhook and exits 0 on SIGTERM', async () => {
    const topic = uniqueName('main');
    const { child, port, stdout } = await startReceiver({ WEBHOOK_EVENTS_TOPIC: topic, TOPIC_PARTITIONS: '2' });
    const admin = await testAdmin();
    onCleanup(() => admin.deleteTopics({ topics: [topic] }).catch(() => undefined));
    while (!logLines(stdout()).some((line) => line.msg === 'Receiver listening')) {
      if (child.exitCode !== null) throw new Error(`receiver exited: ${stdout()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const body = '{"trade_id":7,"status":"failed"}';
    const response = await fetch(`http://127.0.0.1:${port}/api/webhooks/buy-complete`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'x-buy-webhook-signature': signPayload(body, TEST_SECRETS.BUY_WEBHOOK_SECRET) },
    });
    expect(response.status).toBe(202);

    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    const lines = logLines(stdout());
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'Receiver listening', port, topic }));
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'Service stopped', service: 'Receiver' }));
    const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
    expect(metadata?.partitions).toHaveLength(2);
    expect((await readTopic(testKafka(), topic, { count: 1 })).map((message) => message.value.body)).toEqual([body]);
  });
});

describe('npm run receiver: a Kafka it cannot use', () => {
  it.each(unusableKafkaConnections())('meeting %s, exits 1 after one error line naming the cause (%s), retrying nothing', async (_name, code, kafkaEnv) => {
    const { child, stdout, stderr } = await startReceiver(await kafkaEnv());

    const [exitCode] = await withinDeadline('the receiver giving up', once(child, 'exit'), 20_000);
    expect(exitCode).toBe(1);
    expect(stderr()).toBe('');
    const warningsAndErrors = logLines(stdout()).filter((line) => (line.level as number) >= 40);
    expect(warningsAndErrors).toEqual([
      expect.objectContaining({ level: 50, msg: 'Starting the receiver failed, and retrying cannot fix it', code, reason: CONNECTION_FAILURES[code] }),
    ]);
  });
});

describe('npm run receiver: what waiting cannot fix', () => {
  /** A registry URL served by an HTTP server that answers 200 and an empty object to everything. */
  async function junkRegistry(): Promise<string> {
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onCleanup(() => new Promise((resolve) => server.close(resolve)));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}/apis/ccompat/v7`;
  }

  /** A topic name Kafka refuses because it collides with an existing one ('.' and '_' are the same to its metrics). */
  async function collidingTopic(): Promise<string> {
    const existing = uniqueName('collide.a');
    const admin = await testAdmin();
    await createTopicsWithLeaders(admin, [{ topic: existing, partitions: 1 }]);
    onCleanup(() => admin.deleteTopics({ topics: [existing] }).catch(() => undefined));
    return existing.replace('collide.a', 'collide_a');
  }

  it.each<[string, string, () => Promise<NodeJS.ProcessEnv>]>([
    ['a registry URL whose path leads nowhere', 'registry_misconfigured', async () => ({ SCHEMA_REGISTRY_URL: `${new URL(serviceEndpoints().schemaRegistryUrl).origin}/wrong/apis/ccompat/v7` })],
    ['another service where the registry should be', 'programmer_error', async () => ({ SCHEMA_REGISTRY_URL: await junkRegistry() })],
    ['a topic name the broker refuses', 'broker_refused', async () => ({ WEBHOOK_EVENTS_TOPIC: await collidingTopic() })],
  ])('meeting %s, exits 1 naming the cause (%s), retrying nothing', async (_name, code, env) => {
    const { child, stdout } = await startReceiver(await env());

    const [exitCode] = await withinDeadline('the receiver giving up', once(child, 'exit'), 20_000);
    expect(exitCode).toBe(1);
    const lines = logLines(stdout());
    expect(lines.filter((line) => line.msg === 'Start-up step failed; retrying')).toEqual([]);
    // kafkajs logs the broker's refusal itself, before ours.
    expect(lines.filter((line) => (line.level as number) >= 40 && line.component !== 'kafkajs')).toEqual([
      expect.objectContaining({ level: 50, msg: 'Starting the receiver failed, and retrying cannot fix it', code }),
    ]);
  });
});

describe('npm run receiver: stopping and listening while it starts', () => {
  /** The receiver with the test secrets, its Kafka a port nothing listens on: its start-up keeps retrying. */
  async function startWithoutKafka(env: NodeJS.ProcessEnv = {}) {
    return startReceiver({ KAFKA_BROKERS: `127.0.0.1:${await freePort()}`, ...env });
  }

  it('exits 0 within 2 s on SIGTERM while Kafka is unreachable and its start-up is retrying', async () => {
    const receiver = await startWithoutKafka();
    await waitFor('a retried start-up step', async () => (logLines(receiver.output()).some((line) => line.msg === 'Start-up step failed; retrying') ? true : undefined));

    const signalled = Date.now();
    receiver.child.kill('SIGTERM');
    const [code] = await withinDeadline('the receiver stopping', once(receiver.child, 'exit'), 2_000);
    expect(code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(2_000);
    expect(logLines(receiver.output())).toContainEqual(expect.objectContaining({ msg: 'Service stopped', service: 'Receiver' }));
  });

  it('answers /healthz 200, /readyz 503 and webhooks 503 with Retry-After until it has started', async () => {
    const receiver = await startWithoutKafka();
    await waitFor('a retried start-up step', async () => (logLines(receiver.output()).some((line) => line.msg === 'Start-up step failed; retrying') ? true : undefined));
    const base = `http://127.0.0.1:${receiver.port}`;

    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'unavailable', reason: 'Starting: waiting for Kafka and the schema registry' });
    const body = '{"trade_id":7,"status":"failed"}';
    const webhook = await fetch(`${base}/api/webhooks/buy-complete`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'x-buy-webhook-signature': signPayload(body, TEST_SECRETS.BUY_WEBHOOK_SECRET) },
    });
    expect(webhook.status).toBe(503);
    expect(webhook.headers.get('retry-after')).not.toBeNull();

    // SIGKILL would reach tsx only, and leave its node child retrying: stop it as an orchestrator does.
    receiver.child.kill('SIGTERM');
    const [code] = await withinDeadline('the receiver stopping', once(receiver.child, 'exit'), 2_000);
    expect(code).toBe(0);
  });

  it('exits 1 after one error line naming the address when its port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    onCleanup(() => new Promise((resolve) => taken.close(resolve)));
    const port = (taken.address() as { port: number }).port;
    const receiver = await startWithoutKafka({ PORT: String(port) });

    const [code] = await withinDeadline('the receiver giving up', once(receiver.child, 'exit'), 10_000);
    expect(code).toBe(1);
    const lines = logLines(receiver.output());
    expect(lines.filter((line) => (line.level as number) >= 40)).toEqual([
      expect.objectContaining({ level: 50, code: 'EADDRINUSE', msg: `Cannot listen on 127.0.0.1:${port}: another process is using the port` }),
    ]);
    expect(receiver.output().trim().split('\n')).toHaveLength(lines.length);
  });
});

describe('npm run receiver: stopping while Kafka answers nothing', () => {
  it('exits 0 within SHUTDOWN_GRACE_MS + 2 s of SIGTERM while the broker holds its connections open and answers nothing', async () => {
    const graceMs = 1000;
    const topic = uniqueName('silent');
    const admin = await testAdmin();
    onCleanup(() => admin.deleteTopics({ topics: [topic] }).catch(() => undefined));
    const proxy = await startKafkaProxy(admin, serviceEndpoints().kafkaBrokers, { advertiseProxies: true });
    const { child, port, output } = await startReceiver({ KAFKA_BROKERS: proxy.brokers.join(','), WEBHOOK_EVENTS_TOPIC: topic, SHUTDOWN_GRACE_MS: String(graceMs) });
    await waitFor('the receiver ready', async () => {
      if (child.exitCode !== null) throw new Error(`receiver exited: ${output()}`);
      const response = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
      return response?.status === 200 ? true : undefined;
    });
    const post = (tradeId: number): Promise<Response> => {
      const body = `{"trade_id":${tradeId},"status":"failed"}`;
      return fetch(`http://127.0.0.1:${port}/api/webhooks/buy-complete`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'x-buy-webhook-signature': signPayload(body, TEST_SECRETS.BUY_WEBHOOK_SECRET) },
      });
    };
    // Through the proxy: the broker is reached that way, and this event is in Kafka.
    expect((await post(1)).status).toBe(202);

    proxy.stall(true);
    // A webhook whose batch is on the wire when the stop begins.
    const unanswered = post(2).then(
      (response) => response.status,
      () => 'connection closed',
    );
    await sleep(300);
    const signalled = Date.now();
    child.kill('SIGTERM');
    const [code] = await withinDeadline('the receiver stopping', once(child, 'exit'), graceMs + 2_000);
    expect(Date.now() - signalled).toBeLessThan(graceMs + 2_000);
    expect(code).toBe(0);
    expect(logLines(output())).toContainEqual(expect.objectContaining({ msg: 'Service stopped', service: 'Receiver' }));
    expect(await unanswered).not.toBe(202);
    expect((await readTopic(testKafka(), topic, { count: 1 })).map((message) => message.value.body)).toEqual(['{"trade_id":1,"status":"failed"}']);
  });
});

describe('npm run receiver: secrets replaced while it runs', () => {
  const NEXT_BUY = 'next-buy-secret-0123456789abcdef0123';

  /**
   * The receiver reading its secrets from a Kubernetes-style secret volume, as one node process
   * (no tsx CLI in front, which would not pass SIGHUP on), ready to take webhooks.
   */
  async function startWithSecretFiles(env: NodeJS.ProcessEnv = {}) {
    const volume = secretVolume(TEST_SECRETS);
    const endpoints = serviceEndpoints();
    const port = await freePort();
    const topic = uniqueName('secrets');
    const admin = await testAdmin();
    onCleanup(() => admin.deleteTopics({ topics: [topic] }).catch(() => undefined));
    const receiver = startProjectProcess('receiver/main.ts', {
      PATH: process.env.PATH,
      ...volume.env,
      RELWORX_CALLBACK_URL: TEST_RELWORX_CALLBACK_URL,
      KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: endpoints.schemaRegistryUrl,
      WEBHOOK_EVENTS_TOPIC: topic,
      PORT: String(port),
      HOST: '127.0.0.1',
      ...env,
    });
    onCleanup(() => receiver.kill());
    let output = '';
    receiver.child.stdout!.on('data', (chunk) => (output += chunk));
    receiver.child.stderr!.on('data', (chunk) => (output += chunk));
    await waitFor('the receiver ready', async () => {
      if (receiver.hasExited()) throw new Error(`receiver exited: ${output}`);
      const response = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
      return response?.status === 200 ? true : undefined;
    });
    const post = async (secret: string): Promise<number> => {
      const body = '{"trade_id":7,"status":"failed"}';
      const response = await fetch(`http://127.0.0.1:${port}/api/webhooks/buy-complete`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'x-buy-webhook-signature': signPayload(body, secret) },
      });
      return response.status;
    };
    const logged = (msg: string) => waitFor(`the log line '${msg}'`, async () => logLines(output).find((line) => line.msg === msg), 10_000);
    return { receiver, volume, post, logged, output: () => output };
  }

  it('on SIGHUP takes the new secret and refuses the old; refuses a bad set, logged, and keeps the one in force', async () => {
    const { receiver, volume, post, logged, output } = await startWithSecretFiles({ SECRET_FILES_POLL_MS: '0' });
    expect(await post(TEST_SECRETS.BUY_WEBHOOK_SECRET)).toBe(202);

    volume.publish({ ...TEST_SECRETS, BUY_WEBHOOK_SECRET: NEXT_BUY });
    receiver.child.kill('SIGHUP');
    expect(await logged('Webhook secrets reloaded')).toEqual(
      expect.objectContaining({ trigger: 'SIGHUP', secret_counts: { buy_completion: 1, sell_completion: 1, trade_status: 1, relworx_payment: 1 } }),
    );
    expect(await post(TEST_SECRETS.BUY_WEBHOOK_SECRET)).toBe(401);
    expect(await post(NEXT_BUY)).toBe(202);

    volume.publish({ ...TEST_SECRETS, BUY_WEBHOOK_SECRET: 'whsec_not-base64!' });
    receiver.child.kill('SIGHUP');
    expect(await logged('Refused the new webhook secrets; the ones in force stay')).toEqual(
      expect.objectContaining({ level: 50, trigger: 'SIGHUP', problems: [expect.stringContaining('BUY_WEBHOOK_SECRET: its secret has the whsec prefix but is not valid base64')] }),
    );
    expect(await post(NEXT_BUY)).toBe(202);
    expect(receiver.hasExited()).toBe(false);
    expect(output()).not.toMatch(/for-tests|next-buy|not-base64/);
  });

  it('takes a change to its secret files without a signal', async () => {
    const { volume, post, logged } = await startWithSecretFiles();
    volume.publish({ ...TEST_SECRETS, BUY_WEBHOOK_SECRET: NEXT_BUY });

    expect(await logged('Webhook secrets reloaded')).toEqual(expect.objectContaining({ trigger: 'file_change' }));
    expect(await post(NEXT_BUY)).toBe(202);
    expect(await post(TEST_SECRETS.BUY_WEBHOOK_SECRET)).toBe(401);
  });
});
