import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { eventIdOf } from '../../schemas/event-identity';
import { signPayload, signRelworx, relworxSignatureHeader, signStandardWebhook } from '../../schemas/signatures';
import type { WebhookType } from '../../schemas/webhook-catalog';
import { createTestTopic, testAdmin, testKafka } from '../support/kafka';
import { startTestReceiver, TEST_RELWORX_CALLBACK_URL, TEST_SECRETS, type TestReceiver } from '../support/receiver';
import { readTopic } from '../support/topic-reader';
import { waitFor } from '../support/wait-for';

const kafka = testKafka();
const now = () => Math.floor(Date.now() / 1000);

function post(receiver: TestReceiver, path: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${receiver.url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
}

function buyBody(tradeId: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ trade_id: tradeId, status: 'completed', crypto_amount: 0.001, transaction_hash: `0x${tradeId}`, ...extra });
}

const signedBuy = (body: string) => ({ 'x-buy-webhook-signature': signPayload(body, TEST_SECRETS.BUY_WEBHOOK_SECRET) });

interface Receipt {
  success: true;
  event_id: string;
  topic: string;
  partition: number;
  offset: string;
}

/** The event id of each of the `count` records of `topic`, by where it was read: `partition:offset`. */
async function eventIdsByRecord(topic: string, count: number): Promise<Map<string, unknown>> {
  const messages = await readTopic(kafka, topic, { count, timeoutMs: 60_000 });
  expect(messages).toHaveLength(count);
  return new Map(messages.map((message) => [`${message.partition}:${message.raw.offset}`, message.value.event_id]));
}

/** A 202's receipt for the event `eventId` written to `topic`; its partition and offset are checked against the topic. */
const receiptOf = (topic: string, eventId: string) => ({ success: true, event_id: eventId, topic, partition: expect.any(Number), offset: expect.stringMatching(/^\d+$/) });

async function highWatermark(topic: string): Promise<number> {
  const admin = await testAdmin(kafka);
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
}

describe('receiver: accepted webhooks', () => {
  let receiver: TestReceiver;
  let topic: string;
  beforeAll(async () => {
    topic = await createTestTopic(await testAdmin(kafka), { partitions: 3 });
    receiver = await startTestReceiver({ topic });
  });

  it('writes each of the four webhooks to the topic with its key, envelope and CloudEvents headers', async () => {
    const buy = buyBody(101);
    const sell = JSON.stringify({ trade_id: 102, status: 'completed', fiat_amount: 100.5, payment_reference: 'PAY-102' });
    const status = JSON.stringify({ trade_id: 103, status: 'processing', metadata: { stage: 'crypto_transfer' } });
    const relworx = JSON.stringify({ status: 'success', customer_reference: 'TRADE-104', internal_reference: 'RWX-104', amount: 50000, currency: 'UGX' });
    const t = now();
    const responses = await Promise.all([
      post(receiver, '/api/webhooks/buy-complete', buy, signedBuy(buy)),
      post(receiver, '/api/v1/webhooks/sell-complete', sell, { 'x-sell-webhook-signature': signPayload(sell, TEST_SECRETS.SELL_WEBHOOK_SECRET) }),
      post(receiver, '/api/webhooks/trade-status', status, { 'x-trade-webhook-signature': signPayload(status, TEST_SECRETS.TRADE_WEBHOOK_SECRET) }),
      post(receiver, '/api/v1/webhooks/relworx', relworx, {
        'relworx-signature': relworxSignatureHeader(
          t,
          signRelworx(TEST_RELWORX_CALLBACK_URL, t, { customer_reference: 'TRADE-104', internal_reference: 'RWX-104', status: 'success' }, TEST_SECRETS.RELWORX_WEBHOOK_SECRET),
        ),
      }),
    ]);
    const bodies = await Promise.all(responses.map((response) => response.json()));
    expect(responses.map((response) => response.status)).toEqual([202, 202, 202, 202]);
    const eventId = (webhookType: WebhookType, body: string) => eventIdOf({ webhookType, body });
    expect(bodies).toEqual([
      receiptOf(topic, eventId('buy_completion', buy)),
      receiptOf(topic, eventId('sell_completion', sell)),
      receiptOf(topic, eventId('trade_status', status)),
      receiptOf(topic, eventId('relworx_payment', relworx)),
    ]);

    const messages = await readTopic(kafka, topic, { count: 4 });
    expect(messages).toHaveLength(4);
    const records = new Map(messages.map((message) => [`${message.partition}:${message.raw.offset}`, message.value.event_id]));
    expect((bodies as Receipt[]).map((receipt) => records.get(`${receipt.partition}:${receipt.offset}`))).toEqual(bodies.map((body) => (body as Receipt).event_id));
    const byType = Object.fromEntries(messages.map((message) => [message.value.webhook_type, message]));
    expect(byType.buy_completion!.key).toBe('101');
    expect(byType.relworx_payment!.key).toBe('TRADE-104');
    expect(byType.buy_completion!.value).toEqual({
      event_id: eventId('buy_completion', buy),
      webhook_type: 'buy_completion',
      received_at: expect.any(Number),
      path: '/api/webhooks/buy-complete',
      signature_scheme: 'hmac-sha256',
      remote_addr: expect.stringContaining('127.0.0.1'),
      content_type: 'application/json',
      body: buy,
    });
    expect(byType.relworx_payment!.value.signature_scheme).toBe('relworx');
    expect(byType.relworx_payment!.value.event_id).toBe((bodies[3] as { event_id: string }).event_id);
    expect(byType.sell_completion!.headers).toEqual({
      ce_specversion: '1.0',
      ce_id: eventId('sell_completion', sell),
      ce_type: 'exchange.trade_webhooks.sell_completion',
      ce_source: '/api/v1/webhooks/sell-complete',
      ce_time: new Date(byType.sell_completion!.value.received_at as number).toISOString(),
    });
  });

  it('accepts a body serialized as Python json.dumps does and keeps exactly those bytes', async () => {
    const python = Buffer.from('{"trade_id": 105, "status": "completed", "fiat_amount": 100.0, "payment_reference": "caf\\u00e9-105"}');
    const response = await post(receiver, '/api/webhooks/sell-complete', python, {
      'x-sell-webhook-signature': signPayload(python, TEST_SECRETS.SELL_WEBHOOK_SECRET),
    });
    expect(response.status).toBe(202);
    const messages = await readTopic(kafka, topic, { count: 5 });
    const stored = messages.find((message) => message.key === '105');
    expect(Buffer.from(stored!.value.body as string, 'utf8').equals(python)).toBe(true);
  });

  it('takes Standard Webhooks headers and scopes the webhook-id by type for the event id', async () => {
    const body = buyBody(106);
    const t = now();
    const response = await post(receiver, '/api/webhooks/buy-complete', body, {
      'webhook-id': 'msg_106',
      'webhook-timestamp': String(t),
      'webhook-signature': signStandardWebhook('msg_106', t, body, TEST_SECRETS.BUY_WEBHOOK_SECRET),
    });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual(receiptOf(topic, 'buy_completion:msg_106'));
  });

  it('accepts a webhook signed with a rotated-in secret', async () => {
    const next = 'next-buy-secret-0123456789abcdef0123456';
    const rotating = await startTestReceiver({ topic, env: { BUY_WEBHOOK_SECRET: `${TEST_SECRETS.BUY_WEBHOOK_SECRET},${next}` } });
    const body = buyBody(107);
    const withNew = await post(rotating, '/api/webhooks/buy-complete', body, { 'x-buy-webhook-signature': signPayload(body, next) });
    const withOld = await post(rotating, '/api/webhooks/buy-complete', body, signedBuy(body));
    expect([withNew.status, withOld.status]).toEqual([202, 202]);
    const withNewAgain = await post(rotating, '/api/webhooks/buy-complete', body, { 'x-buy-webhook-signature': signPayload(body, next) });
    expect(withNewAgain.status).toBe(202);
    // By position in the list: the rotated-in secret is second here.
    const metrics = await (await fetch(`${rotating.url}/metrics`)).text();
    expect(metrics).toMatch(/webhook_signature_verified_total\{type="buy_completion",secret="0"\} 1\n/);
    expect(metrics).toMatch(/webhook_signature_verified_total\{type="buy_completion",secret="1"\} 2\n/);
  });

  it('logs the messages operators search for and never a secret or a signature', async () => {
    const body = buyBody(108);
    const signature = signedBuy(body)['x-buy-webhook-signature'];
    await post(receiver, '/api/webhooks/buy-complete', body, { 'x-buy-webhook-signature': signature });
    await post(receiver, '/api/webhooks/buy-complete', body, { 'x-buy-webhook-signature': 'f'.repeat(64) });
    const messages = receiver.logs.messages();
    expect(messages).toContain('Received buy completion webhook');
    expect(messages).toContain('Invalid buy webhook signature');
    const all = receiver.logs.text.join('\n');
    for (const secret of Object.values(TEST_SECRETS)) expect(all).not.toContain(secret);
    expect(all).not.toContain(signature);
  });

  it('answers 500 concurrent webhooks with 202 each and writes exactly 500 events', async () => {
    const ownTopic = await createTestTopic(await testAdmin(kafka), { partitions: 6 });
    const own = await startTestReceiver({ topic: ownTopic });
    const bodies = Array.from({ length: 500 }, (_, index) => buyBody(10_000 + index));
    const responses = await Promise.all(bodies.map((body) => post(own, '/api/webhooks/buy-complete', body, signedBuy(body))));
    expect(responses.filter((response) => response.status === 202)).toHaveLength(500);
    const messages = await readTopic(kafka, ownTopic, { count: 500, timeoutMs: 60_000 });
    expect(messages).toHaveLength(500);
    expect(new Set(messages.map((message) => message.value.body))).toEqual(new Set(bodies));
    // Every receipt, whatever batch and partition its event went in, names its own record.
    const records = new Map(messages.map((message) => [`${message.partition}:${message.raw.offset}`, message.value.event_id]));
    const receipts = (await Promise.all(responses.map((response) => response.json()))) as Receipt[];
    expect(receipts.map((receipt) => records.get(`${receipt.partition}:${receipt.offset}`))).toEqual(receipts.map((receipt) => receipt.event_id));
    const metrics = await (await fetch(`${own.url}/metrics`)).text();
    expect(metrics).toMatch(/webhook_requests_total\{route="buy-complete",outcome="accepted"\} 500/);
    // Batched: far fewer produce requests than webhooks.
    const batches = Number(/webhook_publish_batch_size_count (\d+)/.exec(metrics)![1]);
    expect(batches).toBeLessThan(500);
  });

  it('serves health, readiness and metrics', async () => {
    expect((await fetch(`${receiver.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${receiver.url}/readyz`)).json()).toEqual({ status: 'ready' });
    const metrics = await fetch(`${receiver.url}/metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await metrics.text()).toContain('webhook_request_duration_seconds_bucket');
  });
});

describe('receiver: senders signing with the svix and standardwebhooks libraries', () => {
  const whsec = () => `whsec_${randomBytes(32).toString('base64')}`;
  const secrets = { BUY_WEBHOOK_SECRET: whsec(), SELL_WEBHOOK_SECRET: whsec(), TRADE_WEBHOOK_SECRET: whsec(), RELWORX_WEBHOOK_SECRET: whsec() };
  const endpoints: Array<[string, keyof typeof secrets, WebhookType, (id: number) => string]> = [
    ['/api/webhooks/buy-complete', 'BUY_WEBHOOK_SECRET', 'buy_completion', (id) => buyBody(id)],
    ['/api/v1/webhooks/sell-complete', 'SELL_WEBHOOK_SECRET', 'sell_completion', (id) => JSON.stringify({ trade_id: id, status: 'completed', fiat_amount: 10, payment_reference: `PAY-${id}` })],
    ['/api/webhooks/trade-status', 'TRADE_WEBHOOK_SECRET', 'trade_status', (id) => JSON.stringify({ trade_id: id, status: 'processing' })],
    ['/api/v1/webhooks/relworx', 'RELWORX_WEBHOOK_SECRET', 'relworx_payment', (id) => JSON.stringify({ status: 'success', customer_reference: `TRADE-${id}`, internal_reference: `RWX-${id}`, amount: 5, currency: 'UGX' })],
  ];
  let receiver: TestReceiver;
  beforeAll(async () => {
    receiver = await startTestReceiver({ topic: await createTestTopic(await testAdmin(kafka)), env: secrets });
  });

  /** The three headers a sender's library puts on `body`, under its names (`svix-…` or `webhook-…`). */
  function libraryHeaders(prefix: 'svix' | 'webhook', sign: (id: string, at: Date, body: string) => string, id: string, body: string): Record<string, string> {
    const at = new Date();
    return { [`${prefix}-id`]: id, [`${prefix}-timestamp`]: String(Math.floor(at.getTime() / 1000)), [`${prefix}-signature`]: sign(id, at, body) };
  }

  const libraries = [
    { name: "svix's", prefix: 'svix', idPrefix: 'msg_svix', firstTradeId: 300, signer: (secret: string) => new SvixWebhook(secret) },
    { name: "standardwebhooks's", prefix: 'webhook', idPrefix: 'msg_std', firstTradeId: 310, signer: (secret: string) => new StandardWebhook(secret) },
  ] as const;

  it.each(libraries.flatMap((library) => endpoints.map((endpoint, index) => [endpoint[0], library.name, library.prefix, library, endpoint, index] as const)))(
    'accepts %s signed by %s Webhook.sign under the %s- headers',
    async (path, _name, prefix, library, [, variable, type, bodyFor], index) => {
      const body = bodyFor(library.firstTradeId + index);
      const id = `${library.idPrefix}_${type}`;
      const signer = library.signer(secrets[variable]);
      const response = await post(receiver, path, body, libraryHeaders(prefix, (...args) => signer.sign(...args), id, body));
      expect(response.status).toBe(202);
      expect(await response.json()).toEqual(expect.objectContaining({ success: true, event_id: `${type}:${id}` }));
    },
  );

  it('refuses svix- headers signed with the secret of another type', async () => {
    const body = buyBody(320);
    const signer = new SvixWebhook(secrets.SELL_WEBHOOK_SECRET);
    const response = await post(receiver, '/api/webhooks/buy-complete', body, libraryHeaders('svix', (...args) => signer.sign(...args), 'msg_svix_wrong', body));
    expect(response.status).toBe(401);
  });
});

describe('receiver: receipts', () => {
  const eventId = (body: string) => eventIdOf({ webhookType: 'buy_completion', body });

  it('answers each event of one batch across partitions with the partition and offset of its own record', async () => {
    const topic = await createTestTopic(await testAdmin(kafka), { partitions: 3 });
    // One producer and a linger longer than the requests take to arrive: each round is one batch.
    const own = await startTestReceiver({ topic, env: { PUBLISH_LINGER_MS: '1000', PUBLISH_PRODUCERS: '1' } });
    const send = async (bodies: string[]) => {
      const responses = await Promise.all(bodies.map((body) => post(own, '/api/webhooks/buy-complete', body, signedBuy(body))));
      expect(responses.map((response) => response.status)).toEqual(bodies.map(() => 202));
      return (await Promise.all(responses.map((response) => response.json()))) as Receipt[];
    };
    const tradeIds = Array.from({ length: 12 }, (_, index) => 20_000 + index);
    // A first batch on the same keys, so the second starts its partitions past offset 0.
    const first = tradeIds.slice(0, 6).map((tradeId) => buyBody(tradeId, { status: 'failed' }));
    const second = tradeIds.map((tradeId) => buyBody(tradeId));
    const receipts = [...(await send(first)), ...(await send(second))];

    const metrics = await (await fetch(`${own.url}/metrics`)).text();
    expect(metrics).toMatch(/^webhook_publish_batch_size_count 2$/m);
    const bodies = [...first, ...second];
    expect(receipts).toEqual(bodies.map((body) => receiptOf(topic, eventId(body))));
    const batch = receipts.slice(first.length);
    const perPartition = new Map<number, number>();
    for (const { partition } of batch) perPartition.set(partition, (perPartition.get(partition) ?? 0) + 1);
    expect(perPartition.size).toBeGreaterThan(1);
    expect(Math.max(...perPartition.values())).toBeGreaterThan(1);
    // The keys of the first batch: their partitions already held a record when this batch went.
    for (const receipt of batch.slice(0, first.length)) expect(receipt.offset).not.toBe('0');

    const records = await eventIdsByRecord(topic, bodies.length);
    expect(receipts.map((receipt) => records.get(`${receipt.partition}:${receipt.offset}`))).toEqual(bodies.map(eventId));
  });

  it('answers a repeat of an accepted event with the same event id and the record that repeat was written as', async () => {
    const topic = await createTestTopic(await testAdmin(kafka), { partitions: 3 });
    const own = await startTestReceiver({ topic });
    const body = buyBody(20_100);

    const first = (await (await post(own, '/api/webhooks/buy-complete', body, signedBuy(body))).json()) as Receipt;
    const repeat = (await (await post(own, '/api/webhooks/buy-complete', body, signedBuy(body))).json()) as Receipt;

    expect([first, repeat]).toEqual([receiptOf(topic, eventId(body)), receiptOf(topic, eventId(body))]);
    expect(repeat.partition).toBe(first.partition);
    expect(BigInt(repeat.offset)).toBe(BigInt(first.offset) + 1n);
    const records = await eventIdsByRecord(topic, 2);
    expect([records.get(`${first.partition}:${first.offset}`), records.get(`${repeat.partition}:${repeat.offset}`)]).toEqual([eventId(body), eventId(body)]);
  });
});

describe('receiver: event ids are scoped by type', () => {
  it('gives a trade_status and a buy_completion sent with the same webhook-id different event ids and writes both', async () => {
    const topic = await createTestTopic(await testAdmin(kafka));
    const own = await startTestReceiver({ topic });
    const webhookId = 'msg_shared_301';
    const t = now();
    const standard = (body: string, secret: string) => ({ 'webhook-id': webhookId, 'webhook-timestamp': String(t), 'webhook-signature': signStandardWebhook(webhookId, t, body, secret) });
    const status = JSON.stringify({ trade_id: 301, status: 'processing' });
    const buy = buyBody(301);
    const responses = [
      await post(own, '/api/webhooks/trade-status', status, standard(status, TEST_SECRETS.TRADE_WEBHOOK_SECRET)),
      await post(own, '/api/webhooks/buy-complete', buy, standard(buy, TEST_SECRETS.BUY_WEBHOOK_SECRET)),
    ];
    const statusId = eventIdOf({ webhookType: 'trade_status', webhookId, body: status });
    const buyId = eventIdOf({ webhookType: 'buy_completion', webhookId, body: buy });
    expect(statusId).not.toBe(buyId);
    expect(responses.map((response) => response.status)).toEqual([202, 202]);
    expect(await Promise.all(responses.map((response) => response.json()))).toEqual([receiptOf(topic, statusId), receiptOf(topic, buyId)]);

    const messages = await readTopic(kafka, topic, { count: 2 });
    expect(messages.map((message) => [message.value.webhook_type, message.value.event_id, message.headers.ce_id])).toEqual([
      ['trade_status', statusId, statusId],
      ['buy_completion', buyId, buyId],
    ]);
  });
});

describe('receiver: refused requests never reach Kafka', () => {
  let receiver: TestReceiver;
  let topic: string;
  beforeAll(async () => {
    topic = await createTestTopic(await testAdmin(kafka));
    receiver = await startTestReceiver({ topic, env: { MAX_BODY_BYTES: '1024', RELWORX_MAX_BODY_BYTES: '512' } });
  });
  afterAll(async () => {
    expect(await highWatermark(topic)).toBe(0);
  });

  const valid = buyBody(201);
  const cases: Array<[string, () => Promise<Response>, number, unknown]> = [
    ['a missing signature', () => post(receiver, '/api/webhooks/buy-complete', valid), 401, { success: false, error: 'Invalid signature' }],
    ['a wrong signature', () => post(receiver, '/api/webhooks/buy-complete', valid, { 'x-buy-webhook-signature': signPayload(valid, 'wrong-secret') }), 401, { success: false, error: 'Invalid signature' }],
    ['another type\'s signature', () => post(receiver, '/api/webhooks/buy-complete', valid, { 'x-buy-webhook-signature': signPayload(valid, TEST_SECRETS.SELL_WEBHOOK_SECRET) }), 401, { success: false, error: 'Invalid signature' }],
    ['a repeated signature header', () => fetch(`${receiver.url}/api/webhooks/buy-complete`, { method: 'POST', body: valid, headers: [['content-type', 'application/json'], ['x-buy-webhook-signature', signedBuy(valid)['x-buy-webhook-signature']], ['x-buy-webhook-signature', signedBuy(valid)['x-buy-webhook-signature']]] }), 401, { success: false, error: 'Invalid signature' }],
    ['a Standard Webhooks timestamp too old', () => {
      const t = now() - 301;
      return post(receiver, '/api/webhooks/buy-complete', valid, { 'webhook-id': 'msg_old', 'webhook-timestamp': String(t), 'webhook-signature': signStandardWebhook('msg_old', t, valid, TEST_SECRETS.BUY_WEBHOOK_SECRET) });
    }, 401, { success: false, error: 'Invalid signature' }],
    ['a Standard Webhooks timestamp too new', () => {
      const t = now() + 301;
      return post(receiver, '/api/webhooks/buy-complete', valid, { 'webhook-id': 'msg_new', 'webhook-timestamp': String(t), 'webhook-signature': signStandardWebhook('msg_new', t, valid, TEST_SECRETS.BUY_WEBHOOK_SECRET) });
    }, 401, { success: false, error: 'Invalid signature' }],
    ['a tampered Relworx callback', () => {
      const t = now();
      const fields = { customer_reference: 'TRADE-1', internal_reference: 'RWX-1', status: 'failed' };
      const body = JSON.stringify({ ...fields, status: 'success' });
      return post(receiver, '/api/webhooks/relworx', body, { 'relworx-signature': relworxSignatureHeader(t, signRelworx(TEST_RELWORX_CALLBACK_URL, t, fields, TEST_SECRETS.RELWORX_WEBHOOK_SECRET)) });
    }, 401, { success: false, error: 'Invalid signature' }],
    ['a body that is not JSON', () => post(receiver, '/api/webhooks/buy-complete', 'trade_id=1', signedBuy('trade_id=1')), 400, { success: false, error: 'Invalid JSON' }],
    ['a JSON array', () => post(receiver, '/api/webhooks/buy-complete', '[1]', signedBuy('[1]')), 400, { success: false, error: 'Invalid JSON' }],
    ['a body starting with a byte-order mark', () => {
      const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(valid)]);
      return post(receiver, '/api/webhooks/buy-complete', body, { 'x-buy-webhook-signature': signPayload(body, TEST_SECRETS.BUY_WEBHOOK_SECRET) });
    }, 400, { success: false, error: 'Invalid JSON' }],
    ['missing fields', () => {
      const body = JSON.stringify({ status: 'completed' });
      return post(receiver, '/api/webhooks/buy-complete', body, signedBuy(body));
    }, 400, { success: false, error: 'Missing required fields', fields: ['trade_id', 'transaction_hash'] }],
    ['a status the type does not allow', () => {
      const body = JSON.stringify({ trade_id: 1, status: 'processing' });
      return post(receiver, '/api/webhooks/buy-complete', body, signedBuy(body));
    }, 400, { success: false, error: 'Invalid status' }],
    ['a signed Relworx callback over RELWORX_MAX_BODY_BYTES but under MAX_BODY_BYTES', () => {
      const t = now();
      const fields = { customer_reference: 'TRADE-1', internal_reference: 'RWX-1', status: 'success' };
      const body = JSON.stringify({ ...fields, amount: 50000, currency: 'UGX', message: 'x'.repeat(600) });
      return post(receiver, '/api/webhooks/relworx', body, { 'relworx-signature': relworxSignatureHeader(t, signRelworx(TEST_RELWORX_CALLBACK_URL, t, fields, TEST_SECRETS.RELWORX_WEBHOOK_SECRET)) });
    }, 413, { success: false, error: 'Payload too large' }],
    ['a body over MAX_BODY_BYTES', () => {
      const body = buyBody(1, { padding: 'x'.repeat(2000) });
      return post(receiver, '/api/webhooks/buy-complete', body, signedBuy(body));
    }, 413, { success: false, error: 'Payload too large' }],
    ['a content type that is not JSON', () => post(receiver, '/api/webhooks/buy-complete', valid, { ...signedBuy(valid), 'content-type': 'text/plain' }), 415, { success: false, error: 'Content-Type must be application/json' }],
    ['an unknown path', () => post(receiver, '/api/webhooks/refund', valid, signedBuy(valid)), 404, { success: false, error: 'Not found' }],
    ['a GET on a webhook path', () => fetch(`${receiver.url}/api/webhooks/buy-complete`), 405, { success: false, error: 'Method not allowed' }],
  ];

  it.each(cases)('answers %s with the documented status and body', async (_name, request, status, body) => {
    const response = await request();
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual(body);
  });

  it('refuses a body over the limit while it streams in, without a Content-Length', async () => {
    const chunks = new ReadableStream({
      start(controller) {
        for (let index = 0; index < 8; index += 1) controller.enqueue(new TextEncoder().encode('x'.repeat(512)));
        controller.close();
      },
    });
    const response = await fetch(`${receiver.url}/api/webhooks/buy-complete`, {
      method: 'POST',
      body: chunks,
      headers: { 'content-type': 'application/json', ...signedBuy(valid) },
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
  });

  it('answers over the rate limit with 429 and Retry-After', async () => {
    const limited = await startTestReceiver({ topic, env: { RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '2' } });
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let index = 0; index < 4; index += 1) {
      const response = await post(limited, '/api/webhooks/buy-complete', '{}', signedBuy('{}'));
      statuses.push(response.status);
      if (response.status === 429) retryAfter = response.headers.get('retry-after');
    }
    expect(statuses).toEqual([400, 400, 429, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  });

  it('behind a trusted proxy, limits a client by the address the proxy appended however it rotates its own entries', async () => {
    const limited = await startTestReceiver({ topic, env: { RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '2', TRUST_PROXY: '1' } });
    const started = performance.now();
    const statuses: number[] = [];
    for (let index = 0; index < 8; index += 1) {
      // The client writes whatever it likes on the left; the proxy appends the address it saw.
      const spoofed = `203.0.113.${index}, 192.0.2.${index}`;
      const response = await post(limited, '/api/webhooks/buy-complete', '{}', { ...signedBuy('{}'), 'x-forwarded-for': `${spoofed}, 198.51.100.7` });
      statuses.push(response.status);
    }
    const elapsedSeconds = (performance.now() - started) / 1000;
    // A token a second refills while the requests are sent; on a slow machine that lets one more in.
    expect(statuses.slice(0, 2)).toEqual([400, 400]);
    expect(statuses.filter((status) => status !== 429).length).toBeLessThanOrEqual(2 + Math.floor(elapsedSeconds));
    expect(statuses).toContain(429);

    // Another client behind the same proxy has a bucket of its own, and is logged by it.
    const other = await post(limited, '/api/webhooks/buy-complete', valid, { 'x-forwarded-for': '203.0.113.200, 198.51.100.8' });
    expect(other.status).toBe(401);
    const warning = limited.logs.lines.find((line) => line.msg === 'Invalid buy webhook signature');
    expect(warning).toEqual(expect.objectContaining({ client_addr: '198.51.100.8', remote_addr: expect.stringContaining('127.0.0.1') }));
  });

  it('behind a trusted proxy, reads the X-Forwarded-For line the proxy appended after 120 other header lines', async () => {
    const limited = await startTestReceiver({ topic, env: { RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '1', TRUST_PROXY: '1' } });
    const lines = (appended: string): Array<[string, string]> => [
      ['content-type', 'application/json'],
      ['x-buy-webhook-signature', signedBuy('{}')['x-buy-webhook-signature']],
      ...Array.from({ length: 120 }, (_, index): [string, string] => [`x-extra-${index}`, 'v']),
      ['x-forwarded-for', appended],
    ];
    const started = performance.now();
    const statuses: number[] = [];
    for (const appended of ['198.51.100.21', '198.51.100.21', '198.51.100.22']) {
      statuses.push((await fetch(`${limited.url}/api/webhooks/buy-complete`, { method: 'POST', body: '{}', headers: lines(appended) })).status);
    }
    const elapsedSeconds = (performance.now() - started) / 1000;
    // The first client has a bucket of one, refilled a token a second; the second client a bucket of its own.
    expect(statuses[0]).toBe(400);
    expect(statuses.slice(0, 2).filter((status) => status !== 429).length).toBeLessThanOrEqual(1 + Math.floor(elapsedSeconds));
    expect(statuses[2]).toBe(400);
  });

  it('behind a trusted proxy, limits an IPv6 client by its /64 however it rotates its address within it', async () => {
    const limited = await startTestReceiver({ topic, env: { RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '1', TRUST_PROXY: '1' } });
    const started = performance.now();
    const statuses: number[] = [];
    for (const appended of ['[2001:db8:7:7::1]:50001', '2001:db8:7:7:a:b:c:d', '2001:db8:7:7::ffff%eth0', '2001:db8:7:8::1']) {
      const response = await post(limited, '/api/webhooks/buy-complete', '{}', { ...signedBuy('{}'), 'x-forwarded-for': `203.0.113.9, ${appended}` });
      statuses.push(response.status);
    }
    const elapsedSeconds = (performance.now() - started) / 1000;
    // One bucket for the three addresses of 2001:db8:7:7::/64 (a token a second refills it); another /64, another bucket.
    expect(statuses[0]).toBe(400);
    expect(statuses.slice(0, 3).filter((status) => status !== 429).length).toBeLessThanOrEqual(1 + Math.floor(elapsedSeconds));
    expect(statuses[3]).toBe(400);
  });
});

describe('receiver: a client that goes away mid-body', () => {
  it('is logged at info without an error or a stack, counted as aborted, and sent no answer', async () => {
    const topic = await createTestTopic(await testAdmin(kafka));
    const receiver = await startTestReceiver({ topic });
    const received: Buffer[] = [];
    await new Promise<void>((resolve) => {
      const socket = connect(Number(new URL(receiver.url).port), '127.0.0.1', () => {
        socket.write('POST /api/webhooks/buy-complete HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"trade_id":');
        setTimeout(() => socket.destroy(), 100);
      });
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      socket.on('close', () => resolve());
    });

    const metrics = await waitFor('the aborted request to be counted', async () => {
      const text = await (await fetch(`${receiver.url}/metrics`)).text();
      return /webhook_requests_total\{route="buy-complete",outcome="aborted"\} 1/.test(text) ? text : undefined;
    }, 10_000);
    expect(metrics).not.toMatch(/webhook_requests_total\{route="buy-complete",outcome="(?!aborted)/);
    expect(Buffer.concat(received).toString()).toBe('');
    const line = receiver.logs.lines.find((entry) => entry.msg === 'Client closed the connection before sending the whole body');
    expect(line).toEqual(expect.objectContaining({ level: 30, path: '/api/webhooks/buy-complete', client_addr: '127.0.0.1' }));
    expect(line).not.toHaveProperty('err');
    expect(receiver.logs.lines.filter((entry) => entry.component === undefined && (entry.level as number) >= 40)).toEqual([]);
  });
});
