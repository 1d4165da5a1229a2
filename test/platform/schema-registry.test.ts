import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ServerResponse } from 'node:http';
import { TRADE_NOTIFICATION_SCHEMA_FILE, WEBHOOK_EVENT_SCHEMA_FILE } from '../../schemas/avro-schemas';
import { createRegistry, registerValueSchema } from '../../platform/schema-registry';
import { classifyFailure } from '../../processor/errors';
import { serviceEndpoints } from '../setup/service-endpoints';
import { serverCertificate } from '../support/tls-certificates';
import { fileHolding } from '../support/environment';
import { uniqueName } from '../support/names';
import { registryProxy } from '../support/registry-proxy';
import { securedRegistry } from '../support/secured-registry';

/**
 * An HTTP proxy in front of the real registry that leaves the first `count` requests with
 * `method` (any method if not given) unanswered, as a stalled registry would, and forwards
 * the rest.
 */
async function stallingRegistry(stall: { count: number; method?: string }): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  const held: ServerResponse[] = [];
  const { url } = await registryProxy(
    (incoming, outgoing) => {
      seen.push(`${incoming.method} ${incoming.url}`);
      if ((stall.method === undefined || incoming.method === stall.method) && held.length < stall.count) {
        held.push(outgoing);
        incoming.resume();
        return undefined;
      }
      return incoming.url;
    },
    { onClose: () => held.forEach((response) => response.destroy()) },
  );
  return { url, seen };
}

describe('registry client', () => {
  it.each(['GET', 'POST'])('sends a %s the registry left unanswered again, and registers the schema', async (method) => {
    const topic = uniqueName('stalled');
    const proxy = await stallingRegistry({ count: 2, method });
    const id = await registerValueSchema(createRegistry(proxy.url, { timeoutMs: 1500 }), topic, WEBHOOK_EVENT_SCHEMA_FILE);

    expect(await registerValueSchema(createRegistry(serviceEndpoints().schemaRegistryUrl), topic, WEBHOOK_EVENT_SCHEMA_FILE)).toBe(id);
    // The first request with that method, twice unanswered, was sent a third time.
    const first = proxy.seen.findIndex((line) => line.startsWith(`${method} `));
    expect(proxy.seen.slice(first, first + 3)).toEqual(Array(3).fill(proxy.seen[first]));
  });

  it('gives up with a timeout once every attempt went unanswered', async () => {
    const proxy = await stallingRegistry({ count: Number.POSITIVE_INFINITY });
    await expect(registerValueSchema(createRegistry(proxy.url, { timeoutMs: 200 }), uniqueName('dead'), WEBHOOK_EVENT_SCHEMA_FILE)).rejects.toThrow(/Timeout \(200ms\)/);
    expect(proxy.seen).toHaveLength(4);
  });
});

describe('registry client: Avro longs', () => {
  it('encodes ids above 2^53 exactly and decodes them to bigints, timestamps to numbers', async () => {
    const registry = createRegistry(serviceEndpoints().schemaRegistryUrl);
    const id = await registerValueSchema(registry, uniqueName('ids'), TRADE_NOTIFICATION_SCHEMA_FILE);
    const occurredAt = Date.parse('2026-01-01T00:00:00Z');
    const notification = {
      event_id: 'e1',
      user_id: '1234567890123456789',
      trade_id: '9223372036854775807',
      status: 'completed',
      trade_type: 'buy',
      crypto_amount: null,
      crypto_currency: null,
      fiat_amount: null,
      fiat_currency: null,
      occurred_at: occurredAt,
    };
    const encoded = await registry.encode(id, notification);

    // Another client, so the schema is read back from the registry, not from the encoder's cache.
    const decoded = await createRegistry(serviceEndpoints().schemaRegistryUrl).decode(encoded);
    expect({ ...decoded }).toEqual({ ...notification, user_id: 1234567890123456789n, trade_id: 9223372036854775807n, occurred_at: occurredAt });
  });

  it('registers the same schema twice through one client', async () => {
    const registry = createRegistry(serviceEndpoints().schemaRegistryUrl);
    const topic = uniqueName('twice');
    const first = await registerValueSchema(registry, topic, TRADE_NOTIFICATION_SCHEMA_FILE);
    expect(await registerValueSchema(registry, topic, TRADE_NOTIFICATION_SCHEMA_FILE)).toBe(first);
  });
});

const run = promisify(execFile);

describe('registry client: credentials and a private CA', () => {
  it('registers a schema and reads it back through an https registry with basic auth, trusting its CA', async () => {
    const front = await securedRegistry();
    const options = { auth: front.credentials, ca: front.ca };
    const id = await registerValueSchema(createRegistry(front.url, options), uniqueName('secured'), WEBHOOK_EVENT_SCHEMA_FILE);

    // Another client, so the schema is read back through the front, not from the first one's cache.
    const schema = (await createRegistry(front.url, options).getSchema(id)) as unknown as { name: string };
    expect(schema.name).toBe('exchange.trade_webhooks.WebhookEvent');
    expect(front.seen.length).toBeGreaterThan(1);
    expect(front.seen.filter((line) => !line.endsWith(' forwarded'))).toEqual([]);
  });

  it.each([
    ['a wrong password', (front: { credentials: { username: string } }) => ({ auth: { username: front.credentials.username, password: 'wrong' } })],
    ['no credentials', () => ({})],
  ])('with %s: a 401 at once, asked once, that the processor calls registry_unauthorized', async (_, credentials) => {
    const front = await securedRegistry();
    const failure = await registerValueSchema(createRegistry(front.url, { ...credentials(front), ca: front.ca }), uniqueName('refused'), WEBHOOK_EVENT_SCHEMA_FILE).then(
      () => undefined,
      (error: unknown) => error,
    );

    expect(failure).toMatchObject({ name: 'ResponseError', status: 401 });
    expect(classifyFailure(failure).code).toBe('registry_unauthorized');
    expect(front.seen).toHaveLength(1);
  });

  it('fails the handshake with a registry whose certificate another CA signed: one connection, no request, the reason in the message', async () => {
    const front = await securedRegistry();
    const stranger = serverCertificate('another');
    const began = performance.now();
    const failure = await registerValueSchema(createRegistry(front.url, { auth: front.credentials, ca: stranger.ca }), uniqueName('untrusted'), WEBHOOK_EVENT_SCHEMA_FILE).then(
      () => undefined,
      (error: unknown) => error as Error & { status?: number },
    );

    // mappersmith reports a request that got no response as a 400 of its own, and the library
    // keeps only the status and the text of the TLS error, not its code.
    expect(failure).toMatchObject({ name: 'ResponseError', status: 400 });
    // Node 24 appends a hint (`; if the root CA is installed locally, try ... --use-system-ca`).
    expect(failure!.message).toMatch(/^Confluent_Schema_Registry - Error, status 400: unable to verify the first certificate(;|$)/);
    expect(front.connections()).toBe(1);
    expect(front.seen).toEqual([]);
    expect(performance.now() - began).toBeLessThan(2000);
  });

  it.each([
    ['another CA', (): Buffer | undefined => serverCertificate('another').ca],
    ["the system's CAs", (): Buffer | undefined => undefined],
  ])('checks the certificate against %s also under NODE_TLS_REJECT_UNAUTHORIZED=0, sending no credentials', async (_name, ca) => {
    const front = await securedRegistry();
    const caFile = ca() && fileHolding(ca()!);
    // A process of its own: the variable is read by Node's TLS, which a test's process.env does not reach.
    const script = `require('./platform/schema-registry').createRegistry(process.env.URL, {
        auth: { username: process.env.USERNAME, password: process.env.PASSWORD },
        ...(process.env.CA_FILE && { ca: require('node:fs').readFileSync(process.env.CA_FILE) }),
      }).getLatestSchemaId('anything-value').then(() => console.log('answered'), (error) => console.log(error.message))`;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: join(__dirname, '../..'),
      env: { PATH: process.env.PATH, NODE_TLS_REJECT_UNAUTHORIZED: '0', URL: front.url, USERNAME: front.credentials.username, PASSWORD: front.credentials.password, ...(caFile && { CA_FILE: caFile }) },
    });
    expect(stdout).toMatch(/unable to verify the first certificate|self-signed certificate|unable to get local issuer certificate/);
    expect(front.seen).toEqual([]);
  });

  it('checks the registry name against its certificate', async () => {
    const front = await securedRegistry({ serverNames: ['registry.internal'] });
    const failure = await registerValueSchema(createRegistry(front.url, { auth: front.credentials, ca: front.ca }), uniqueName('misnamed'), WEBHOOK_EVENT_SCHEMA_FILE).then(
      () => undefined,
      (error: unknown) => error as Error,
    );

    expect(failure?.message).toMatch(/IP: 127\.0\.0\.1 is not in the cert's list/);
    expect(front.seen).toEqual([]);
  });

  it('refuses a CA for a plain http URL when it is made, not at the first request', () => {
    expect(() => createRegistry('http://127.0.0.1:8081/apis/ccompat/v7', { ca: 'any' })).toThrow(TypeError);
  });
});
