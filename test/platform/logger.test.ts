import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../../platform/logger';
import { createRegistry } from '../../platform/schema-registry';
import { onCleanup } from '../support/cleanup';
import { CapturedLogs } from '../support/receiver';

const VALUE = 'value-that-must-not-be-printed-0123456789';

describe('logger redaction', () => {
  it.each([
    ['the buy signature header', { headers: { 'x-buy-webhook-signature': VALUE, 'content-type': 'application/json' } }, { headers: { 'x-buy-webhook-signature': '[redacted]', 'content-type': 'application/json' } }],
    ['the sell signature header', { headers: { 'x-sell-webhook-signature': VALUE } }, { headers: { 'x-sell-webhook-signature': '[redacted]' } }],
    ['the trade signature header', { headers: { 'x-trade-webhook-signature': VALUE } }, { headers: { 'x-trade-webhook-signature': '[redacted]' } }],
    ['the Relworx signature header', { headers: { 'relworx-signature': VALUE } }, { headers: { 'relworx-signature': '[redacted]' } }],
    ['the Standard Webhooks signature header, beside its id', { headers: { 'webhook-signature': VALUE, 'webhook-id': 'msg_1' } }, { headers: { 'webhook-signature': '[redacted]', 'webhook-id': 'msg_1' } }],
    ["Svix's name for it, beside its id", { headers: { 'svix-signature': VALUE, 'svix-id': 'msg_1' } }, { headers: { 'svix-signature': '[redacted]', 'svix-id': 'msg_1' } }],
    ['a signature header of a logged request', { req: { method: 'POST', headers: { 'x-buy-webhook-signature': VALUE } } }, { req: { method: 'POST', headers: { 'x-buy-webhook-signature': '[redacted]' } } }],
    ['a secret', { secret: VALUE }, { secret: '[redacted]' }],
    ['a list of secrets', { secrets: [VALUE, VALUE] }, { secrets: '[redacted]' }],
    ['the secret of a logged object', { config: { secret: VALUE, topic: 'webhook-events' } }, { config: { secret: '[redacted]', topic: 'webhook-events' } }],
    ['the secrets of a logged object', { config: { secrets: [VALUE] } }, { config: { secrets: '[redacted]' } }],
  ])('writes [redacted] for %s', (_name, fields, expected) => {
    const logs = new CapturedLogs();
    createLogger({ level: 'info', name: 'test' }, logs).info(fields, 'a line');
    expect(logs.lines).toEqual([expect.objectContaining({ ...expected, msg: 'a line' })]);
    expect(logs.text.join('\n')).not.toContain(VALUE);
  });
});

describe('logger', () => {
  it('writes JSON lines with the service name, from the configured level up', () => {
    const logs = new CapturedLogs();
    const logger = createLogger({ level: 'warn', name: 'receiver' }, logs);
    logger.info('not written');
    logger.warn('written');
    logger.error('written too');
    expect(logs.lines.map(({ level, name, msg }) => [level, name, msg])).toEqual([
      [40, 'receiver', 'written'],
      [50, 'receiver', 'written too'],
    ]);
  });
});

describe('logger: credentials in URLs', () => {
  const PASSWORD = 'Url-Passw0rd-that-must-not-be-printed';

  /** A registry that answers 404 to everything: the registry client's error names the URL it asked. */
  async function registryError(url: (port: number) => string): Promise<unknown> {
    const server = createServer((_request, response) => {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error_code: 40403, message: 'Schema not found' }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;
    return createRegistry(url(port)).getSchema(1).then(
      () => {
        throw new Error('the registry answered');
      },
      (error: unknown) => error,
    );
  }

  it("masks the user and password in a registry client's error, keeping the rest of the URL", async () => {
    const error = await registryError((port) => `http://svc-webhooks:${PASSWORD}@127.0.0.1:${port}/apis/ccompat/v7`);
    expect(JSON.stringify(error, ['url'])).toContain(PASSWORD);
    const logs = new CapturedLogs();
    createLogger({ level: 'info', name: 'test' }, logs).warn({ err: error }, 'Start-up step failed; retrying');
    expect(logs.text.join('\n')).not.toContain(PASSWORD);
    expect(logs.text.join('\n')).not.toContain('svc-webhooks');
    expect(logs.lines[0]?.err).toEqual(expect.objectContaining({ status: 404, url: expect.stringMatching(/^get http:\/\/\[redacted\]@127\.0\.0\.1:\d+\/apis\/ccompat\/v7\/schemas\/ids\/1$/) }));
  });

  it.each([
    ['the message and the stack', Object.assign(new Error(`request to https://app:${PASSWORD}@registry.example/apis failed`), {})],
    ['a url field', Object.assign(new Error('request failed'), { url: `post https://app:${PASSWORD}@registry.example/subjects` })],
    ['the error it wraps', new Error('start-up failed', { cause: new Error(`GET http://app:${PASSWORD}@db.example:5432 refused`) })],
  ])('masks credentials in %s of a logged error', (_name, error) => {
    const logs = new CapturedLogs();
    createLogger({ level: 'info', name: 'test' }, logs).error({ err: error }, 'Failed');
    expect(logs.text.join('\n')).not.toContain(PASSWORD);
    expect(logs.text.join('\n')).toContain('[redacted]@');
  });

  it('masks credentials in an error given as the first argument', () => {
    const logs = new CapturedLogs();
    createLogger({ level: 'info', name: 'test' }, logs).error(new Error(`to http://u:${PASSWORD}@h/x`));
    expect(logs.text.join('\n')).not.toContain(PASSWORD);
    expect(logs.lines[0]?.err).toEqual(expect.objectContaining({ message: 'to http://[redacted]@h/x' }));
  });

  it('leaves URLs without credentials, and e-mail addresses, as they are', () => {
    const logs = new CapturedLogs();
    createLogger({ level: 'info', name: 'test' }, logs).error({ err: Object.assign(new Error('ops@example.com: http://registry:8081/apis failed'), { url: 'get http://registry:8081/x' }) }, 'Failed');
    expect(logs.lines[0]?.err).toEqual(expect.objectContaining({ message: 'ops@example.com: http://registry:8081/apis failed', url: 'get http://registry:8081/x' }));
  });
});
