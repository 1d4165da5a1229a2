import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import fc from 'fast-check';
import { signPayload, signStandardWebhook } from '../../sender';
import { serviceEndpoints } from '../setup/service-endpoints';
import { testAdmin } from '../support/kafka';
import { uniqueName } from '../support/names';
import { freePort } from '../support/free-port';
import { TEST_RELWORX_CALLBACK_URL, TEST_SECRETS } from '../support/receiver';
import { serviceProcess, type ServiceProcess } from '../support/service-process';
import { FAULT_SEED } from './seeded-random';

const MAX_BODY = 65_536;
const secret = TEST_SECRETS.BUY_WEBHOOK_SECRET;

interface Case {
  name: string;
  body: Buffer;
  /** Raw header pairs, so repeated headers can be sent. */
  headers: Array<[string, string]>;
  expect: number[];
}

const hex = (constraints: { minLength?: number; maxLength: number }) => fc.string({ ...constraints, unit: fc.constantFrom(...'0123456789abcdef'.split('')) });

const signed = (body: Buffer): Array<[string, string]> => [
  ['content-type', 'application/json'],
  ['x-buy-webhook-signature', signPayload(body, secret)],
];

/** A valid buy completion with one token replaced by raw JSON text (to send numbers JSON.stringify cannot write). */
function withField(field: string, raw: string | undefined): Buffer {
  const fields: Record<string, string> = { trade_id: '42', status: '"completed"', crypto_amount: '0.001', transaction_hash: '"0xabc"' };
  if (raw === undefined) delete fields[field];
  else fields[field] = raw;
  return Buffer.from(`{${Object.entries(fields).map(([name, value]) => `"${name}":${value}`).join(',')}}`);
}

const jsonString = fc.string({ maxLength: 20 }).map((text) => JSON.stringify(text));
const notANumber = fc.oneof(jsonString, fc.boolean().map(String), fc.constantFrom('{}', '[1,2]', '{"a":{"b":[]}}'));

/** Values each field must refuse (null counts as missing where the field is required). */
const WRONG: Record<string, fc.Arbitrary<string>> = {
  trade_id: fc.oneof(
    notANumber,
    fc.constant('null'),
    fc.double({ noInteger: true, noNaN: true, noDefaultInfinity: true }).map(String),
    fc.constantFrom('1e400', '-1e400', '-0.5', '1.5', '123456789012345678901234567890', '9007199254740993'),
  ),
  status: fc.oneof(
    fc.string({ maxLength: 12 }).filter((status) => status !== 'completed' && status !== 'failed').map((status) => JSON.stringify(status)),
    fc.integer().map(String),
    fc.constantFrom('null', '{}', '[]', 'true'),
  ),
  transaction_hash: fc.oneof(fc.integer().map(String), fc.boolean().map(String), fc.constantFrom('null', '{}', '[]')),
  crypto_amount: fc.oneof(
    notANumber,
    fc.double({ max: -Number.MIN_VALUE, noNaN: true, noDefaultInfinity: true }).map(String),
    fc.constantFrom('1e400', '-1e400', '-0.5', '-1', '123456789012345678901234567890', '0.0000000000000000000001'),
  ),
};

const fieldDefect: fc.Arbitrary<Case> = fc
  .oneof(
    fc.constantFrom('trade_id', 'status', 'transaction_hash').map((field) => ({ name: `missing ${field}`, field, raw: undefined as string | undefined })),
    fc.constantFrom(...Object.keys(WRONG)).chain((field) => WRONG[field]!.map((raw) => ({ name: `${field} = ${raw}`, field, raw: raw as string | undefined }))),
  )
  .map(({ name, field, raw }) => {
    const body = withField(field, raw);
    return { name, body, headers: signed(body), expect: [400] };
  });

const cases: fc.Arbitrary<Case> = fc.oneof(
  fieldDefect,
  fc.string({ maxLength: 200 }).map((text) => Buffer.from(text)).map((body) => ({ name: 'arbitrary text', body, headers: signed(body), expect: [400] })),
  fc.integer({ min: 1000, max: 20_000 }).map((depth) => Buffer.from('['.repeat(depth) + ']'.repeat(depth))).map((body) => ({ name: 'deep nesting', body, headers: signed(body), expect: [400] })),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => Buffer.concat([Buffer.from('{"trade_id":42,"status":"'), Buffer.from([0xc3, 0x28, ...bytes.map((b) => b | 0x80)]), Buffer.from('"}')]))
    .map((body) => ({ name: 'invalid UTF-8', body, headers: signed(body), expect: [400] })),
  fc.integer({ min: MAX_BODY + 1, max: MAX_BODY * 4 }).map((size) => Buffer.alloc(size, 0x20)).map((body) => ({ name: 'over the size limit', body, headers: signed(body), expect: [413] })),
  fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/jsonp', 'multipart/form-data', '').map((type) => {
    const body = withField('trade_id', '42');
    return { name: `content type "${type}"`, body, headers: [['content-type', type], ['x-buy-webhook-signature', signPayload(body, secret)]] as Array<[string, string]>, expect: [415] };
  }),
  fc.constant(null).map(() => {
    const body = withField('trade_id', '42');
    const signature = signPayload(body, secret);
    return { name: 'repeated signature header', body, headers: [['content-type', 'application/json'], ['x-buy-webhook-signature', signature], ['x-buy-webhook-signature', signature]] as Array<[string, string]>, expect: [401] };
  }),
  fc.oneof(hex({ maxLength: 63 }), hex({ minLength: 65, maxLength: 128 }), fc.string({ maxLength: 64 })).map((signature) => {
    const body = withField('trade_id', '42');
    return { name: 'signature of the wrong length', body, headers: [['content-type', 'application/json'], ['x-buy-webhook-signature', signature]] as Array<[string, string]>, expect: [401] };
  }),
  fc.string({ minLength: 1, maxLength: 40 }).filter((other) => other !== secret).map((other) => {
    const body = withField('trade_id', '42');
    return { name: 'signed with the wrong secret', body, headers: [['content-type', 'application/json'], ['x-buy-webhook-signature', signPayload(body, other)]] as Array<[string, string]>, expect: [401] };
  }),
  fc.oneof(fc.integer({ min: 301, max: 10_000_000 }), fc.integer({ min: -10_000_000, max: -301 })).map((offset) => {
    const body = withField('trade_id', '42');
    const timestamp = Math.floor(Date.now() / 1000) + offset;
    return {
      name: 'Standard Webhooks timestamp outside tolerance',
      body,
      headers: [['content-type', 'application/json'], ['webhook-id', 'msg_x'], ['webhook-timestamp', String(timestamp)], ['webhook-signature', signStandardWebhook('msg_x', timestamp, body, secret)]] as Array<[string, string]>,
      expect: [401],
    };
  }),
);

/** One request with exactly these bytes and headers; 0 when the server closed the connection. */
function send(port: number, testCase: Case): Promise<number> {
  // A header given twice is sent as two header lines (Node writes an array value that way).
  const headers: Record<string, string | string[]> = { 'content-length': String(testCase.body.length) };
  for (const [name, value] of testCase.headers) {
    const previous = headers[name];
    headers[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return new Promise((resolve) => {
    const request = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/api/webhooks/buy-complete', headers }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
      response.on('error', () => resolve(0));
    });
    request.on('error', () => resolve(0));
    request.end(testCase.body);
  });
}

/** Writes `chunks` one every `intervalMs`; resolves with the status line received, or 'closed'. */
function drip(port: number, chunks: string[], intervalMs: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let index = 0;
    const timer = setInterval(() => {
      if (index < chunks.length && !socket.destroyed) socket.write(chunks[index++]!);
    }, intervalMs);
    socket.on('data', (data) => (received += data.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve(received ? received.split('\r\n')[0]! : 'closed');
    });
  });
}

describe('faults: bad input never gets in', () => {
  let receiver: ServiceProcess;
  let port: number;
  let topic: string;

  beforeAll(async () => {
    const endpoints = serviceEndpoints();
    port = await freePort();
    topic = uniqueName('bad_input');
    receiver = serviceProcess(
      'receiver',
      {
        ...TEST_SECRETS,
        RELWORX_CALLBACK_URL: TEST_RELWORX_CALLBACK_URL,
        KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
        SCHEMA_REGISTRY_URL: endpoints.schemaRegistryUrl,
        WEBHOOK_EVENTS_TOPIC: topic,
        PORT: String(port),
        HOST: '127.0.0.1',
        RATE_LIMIT_PER_SECOND: '0',
        HEADERS_TIMEOUT_MS: '1000',
        REQUEST_TIMEOUT_MS: '2000',
        LOG_LEVEL: 'warn',
      },
      `http://127.0.0.1:${port}/readyz`,
    );
    await receiver.start();
  });

  it('answers 1,000 generated bad requests with the documented 4xx, stays up with flat memory, and writes nothing', async () => {
    process.stdout.write(`\nBad-input seed: ${FAULT_SEED} (repeat with FAULT_SEED=${FAULT_SEED})\n`);
    // Warm up, then take the memory baseline.
    for (let index = 0; index < 200; index += 1) await send(port, { name: 'warm-up', body: Buffer.from('{}'), headers: signed(Buffer.from('{}')), expect: [400] });
    const rssBefore = receiver.rssMiB();
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(cases, async (testCase) => {
        const status = await send(port, testCase);
        seen.set(testCase.name.split(' = ')[0]!, (seen.get(testCase.name.split(' = ')[0]!) ?? 0) + 1);
        if (!testCase.expect.includes(status)) throw new Error(`${testCase.name}: expected ${testCase.expect.join('|')}, got ${status}`);
      }),
      { seed: FAULT_SEED, numRuns: 1000 },
    );
    const rssAfter = receiver.rssMiB();
    process.stdout.write(`Bad input: 1000 requests, ${seen.size} kinds; receiver RSS ${rssBefore} → ${rssAfter} MiB\n`);

    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect(rssAfter - rssBefore).toBeLessThan(64);
    const offsets = await (await testAdmin()).fetchTopicOffsets(topic);
    expect(offsets.reduce((sum, partition) => sum + Number(partition.high), 0)).toBe(0);
  }, 300_000);

  it('closes slow-drip headers and bodies', async () => {
    const slowHeaders = drip(port, ['POST /api/webhooks/buy-complete HTTP/1.1\r\n', 'Host: x\r\n', 'Content-Type: application/json\r\n', 'X-Slow: 1\r\n', 'X-Slow: 2\r\n', 'X-Slow: 3\r\n', 'X-Slow: 4\r\n', 'X-Slow: 5\r\n'], 500);
    const body = '{"trade_id":42,"status":"completed","transaction_hash":"0xabc"}';
    const slowBody = drip(
      port,
      [`POST /api/webhooks/buy-complete HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nX-Buy-Webhook-Signature: ${signPayload(body, secret)}\r\n\r\n`, ...body.split('')],
      300,
    );
    const [headers, bodyResult] = await Promise.all([slowHeaders, slowBody]);
    expect(['closed', 'HTTP/1.1 408 Request Timeout']).toContain(headers);
    expect(['closed', 'HTTP/1.1 408 Request Timeout']).toContain(bodyResult);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const offsets = await (await testAdmin()).fetchTopicOffsets(topic);
    expect(offsets.reduce((sum, partition) => sum + Number(partition.high), 0)).toBe(0);
  }, 60_000);
});
