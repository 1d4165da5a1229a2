import type { Knex } from 'knex';
import { signPayload, signRelworx, relworxSignatureHeader } from '../../schemas/signatures';
import { insertTrade, migratedDatabase, createTestTopics, startTestProcessor, testKafka, type TestTopics } from '../support/processor';
import { startTestReceiver, TEST_RELWORX_CALLBACK_URL, TEST_SECRETS, type TestReceiver } from '../support/receiver';
import { readTopic } from '../support/topic-reader';
import { waitFor } from '../support/wait-for';

const kafka = testKafka();

async function post(receiver: TestReceiver, name: string, body: string, headers: Record<string, string>): Promise<number> {
  const response = await fetch(`${receiver.url}/api/webhooks/${name}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  await response.arrayBuffer();
  return response.status;
}

describe('processor: signed HTTP request to trade update and notification', () => {
  let db: Knex;
  let topics: TestTopics;
  let receiver: TestReceiver;
  beforeAll(async () => {
    const database = await migratedDatabase();
    db = database.db;
    topics = await createTestTopics();
    receiver = await startTestReceiver({ topic: topics.events });
    await startTestProcessor({ topics, db, schema: database.schema });
  });

  it('applies each of the four webhook types and publishes a notification for each', async () => {
    const buy = await insertTrade(db, { trade_type: 'buy', status: 'processing', crypto_amount: '0.123456789012345678', user_id: 123 });
    const sell = await insertTrade(db, { trade_type: 'sell', status: 'processing', fiat_amount: '100.5', fiat_currency: 'USD' });
    const staged = await insertTrade(db, { trade_type: 'buy' });
    const mobile = await insertTrade(db, { trade_type: 'buy', fiat_amount: '50000', fiat_currency: 'UGX' });

    // Written as text: a JS number literal would already have lost the last digits.
    const buyBody = `{"trade_id":${buy.id},"status":"completed","crypto_amount":0.123456789012345678,"transaction_hash":"0xfeed"}`;
    const sellBody = `{"trade_id": ${sell.id}, "status": "completed", "fiat_amount": 100.50, "payment_reference": "PAY_REF_123456"}`;
    const statusBody = JSON.stringify({ trade_id: staged.id, status: 'processing', metadata: { processing_stage: 'crypto_transfer', estimated_completion: '5 minutes' } });
    const relworxFields = { customer_reference: mobile.reference, internal_reference: 'RWX-77', status: 'success' };
    const relworxBody = JSON.stringify({ ...relworxFields, amount: 50000, currency: 'UGX', msisdn: '256700000001', provider: 'MTN_UGANDA' });
    const t = Math.floor(Date.now() / 1000);

    expect(
      await Promise.all([
        post(receiver, 'buy-complete', buyBody, { 'x-buy-webhook-signature': signPayload(buyBody, TEST_SECRETS.BUY_WEBHOOK_SECRET) }),
        post(receiver, 'sell-complete', sellBody, { 'x-sell-webhook-signature': signPayload(sellBody, TEST_SECRETS.SELL_WEBHOOK_SECRET) }),
        post(receiver, 'trade-status', statusBody, { 'x-trade-webhook-signature': signPayload(statusBody, TEST_SECRETS.TRADE_WEBHOOK_SECRET) }),
        post(receiver, 'relworx', relworxBody, {
          'relworx-signature': relworxSignatureHeader(t, signRelworx(TEST_RELWORX_CALLBACK_URL, t, relworxFields, TEST_SECRETS.RELWORX_WEBHOOK_SECRET)),
        }),
      ]),
    ).toEqual([202, 202, 202, 202]);

    const notifications = await readTopic(kafka, topics.notifications, { count: 4 });
    expect(notifications).toHaveLength(4);
    const byTrade = Object.fromEntries(notifications.map((message) => [message.value.trade_id, message]));
    expect(byTrade[buy.id]!.key).toBe('123');
    expect(byTrade[buy.id]!.value).toEqual({
      event_id: expect.stringMatching(/^[0-9a-f]{64}$/),
      user_id: 123,
      trade_id: buy.id,
      status: 'completed',
      trade_type: 'buy',
      crypto_amount: '0.123456789012345678',
      crypto_currency: 'BTC',
      fiat_amount: '50000',
      fiat_currency: 'UGX',
      occurred_at: expect.any(Number),
    });
    expect(byTrade[sell.id]!.value).toEqual(expect.objectContaining({ status: 'completed', trade_type: 'sell', fiat_amount: '100.5', fiat_currency: 'USD' }));
    expect(byTrade[staged.id]!.value).toEqual(expect.objectContaining({ status: 'processing' }));
    expect(byTrade[mobile.id]!.value).toEqual(expect.objectContaining({ status: 'processing', trade_type: 'buy' }));

    const trades = await db('trades').whereIn('id', [buy.id, sell.id, staged.id, mobile.id]).orderBy('id');
    const [buyRow, sellRow, stagedRow] = trades;
    expect(buyRow).toEqual(expect.objectContaining({ status: 'completed', crypto_amount: '0.123456789012345678', completed_at: expect.any(Date) }));
    expect(buyRow.metadata).toEqual(expect.objectContaining({ transaction_hash: '0xfeed' }));
    expect(sellRow).toEqual(expect.objectContaining({ status: 'completed', completed_at: expect.any(Date) }));
    expect(stagedRow.metadata).toEqual(expect.objectContaining({ processing_stage: 'crypto_transfer', estimated_completion: '5 minutes' }));

    const transactions = await db('transactions').whereIn('trade_id', [buy.id, sell.id, mobile.id]).orderBy('trade_id');
    expect(transactions).toEqual([
      expect.objectContaining({ trade_id: String(buy.id), kind: 'crypto_transfer', status: 'completed', transaction_hash: '0xfeed', amount: '0.123456789012345678' }),
      expect.objectContaining({ trade_id: String(sell.id), kind: 'fiat_payment', status: 'completed', payment_reference: 'PAY_REF_123456', amount: '100.500000000000000000' }),
      expect.objectContaining({
        trade_id: String(mobile.id),
        kind: 'mobile_money',
        status: 'completed',
        provider: 'MTN_UGANDA',
        provider_reference: 'RWX-77',
        customer_reference: mobile.reference,
        msisdn: '256700000001',
        amount: '50000.000000000000000000',
      }),
    ]);

    // Relworx again, an unsigned field altered: the same event, so nothing changes twice.
    const altered = JSON.stringify({ ...relworxFields, amount: 50000, currency: 'UGX', msisdn: '256700000999', provider: 'MTN_UGANDA' });
    const again = await post(receiver, 'relworx', altered, {
      'relworx-signature': relworxSignatureHeader(t, signRelworx(TEST_RELWORX_CALLBACK_URL, t, relworxFields, TEST_SECRETS.RELWORX_WEBHOOK_SECRET)),
    });
    expect(again).toBe(202);
    await waitFor('the altered Relworx copy counted as a duplicate', async () => {
      const row = await db('webhook_events').where({ webhook_type: 'relworx_payment' }).first();
      return row?.deliveries === 2 ? true : undefined;
    });
    expect((await db('transactions').where({ trade_id: mobile.id }).first()).msisdn).toBe('256700000001');

    const events = await waitFor('four applied events', async () => {
      const rows = await db('webhook_events').where({ outcome: 'applied' });
      return rows.length === 4 ? rows : undefined;
    });
    expect(new Set(events.map((row) => row.trade_id))).toEqual(new Set([buy.id, sell.id, staged.id, mobile.id].map(String)));
  });
});

describe('processor: ids a bigint holds, end to end', () => {
  let db: Knex;
  let topics: TestTopics;
  let receiver: TestReceiver;
  beforeAll(async () => {
    const database = await migratedDatabase();
    db = database.db;
    topics = await createTestTopics();
    receiver = await startTestReceiver({ topic: topics.events });
    await startTestProcessor({ topics, db, schema: database.schema });
  });

  it('a user id above 2^53 reaches the notification exactly, with the trade id, in the value, the key and the headers', async () => {
    // Both past 2^53, where Number() rounds: 9007199254740993 would become ...992.
    const tradeId = '9007199254740993';
    const userId = '1234567890123456789';
    await db('trades').insert({ id: tradeId, reference: 'BIG-1', user_id: userId, trade_type: 'buy', status: 'processing', crypto_amount: '0.001', crypto_currency: 'BTC' });
    const body = `{"trade_id":${tradeId},"status":"completed","transaction_hash":"0xbig"}`;
    expect(await post(receiver, 'buy-complete', body, { 'x-buy-webhook-signature': signPayload(body, TEST_SECRETS.BUY_WEBHOOK_SECRET) })).toBe(202);

    const [event] = await readTopic(kafka, topics.events, { count: 1 });
    expect(event!.key).toBe(tradeId);
    const [notification] = await readTopic(kafka, topics.notifications, { count: 1 });
    expect(notification!.key).toBe(userId);
    expect(notification!.headers).toEqual(expect.objectContaining({ trade_id: tradeId, user_id: userId }));
    expect(notification!.value).toEqual(expect.objectContaining({ user_id: BigInt(userId), trade_id: BigInt(tradeId), status: 'completed' }));

    expect(await db('trades').where({ id: tradeId }).first()).toEqual(expect.objectContaining({ id: tradeId, user_id: userId, status: 'completed' }));
    expect(await db('webhook_events').where({ trade_id: tradeId }).first()).toEqual(expect.objectContaining({ trade_id: tradeId, outcome: 'applied' }));
    const outbox = await db('outbox').where({ message_key: userId }).first();
    expect([outbox.payload.user_id, outbox.payload.trade_id]).toEqual([userId, tradeId]);
  });
});
