import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { buyCompletion, relworxPayment, sellCompletion, sendWebhook, serializePayload, signPayload, signRelworx, tradeStatus } from '../../sender';
import { createTestTopic, testAdmin } from '../support/kafka';
import { startTestReceiver, TEST_RELWORX_CALLBACK_URL, TEST_SECRETS, type TestReceiver } from '../support/receiver';

describe('sender toolkit signatures, verified by the receiver', () => {
  let receiver: TestReceiver;
  beforeAll(async () => {
    receiver = await startTestReceiver({ topic: await createTestTopic(await testAdmin()) });
  });

  const cases: Array<[string, string, unknown, string, Record<string, unknown>?]> = [
    ['buy-complete', 'hex HMAC', buyCompletion({ tradeId: 1, cryptoAmount: '0.001', transactionHash: '0xabc' }), TEST_SECRETS.BUY_WEBHOOK_SECRET],
    ['sell-complete', 'hex HMAC', sellCompletion({ tradeId: 2, fiatAmount: 100.5, paymentReference: 'PAY-2' }), TEST_SECRETS.SELL_WEBHOOK_SECRET],
    ['trade-status', 'hex HMAC', tradeStatus({ tradeId: 3, status: 'processing', metadata: { stage: 'payment_verification' } }), TEST_SECRETS.TRADE_WEBHOOK_SECRET],
    ['relworx', 'Relworx', relworxPayment({ customerReference: 'TRADE-4', internalReference: 'RWX-4', amount: 50000, currency: 'UGX' }), TEST_SECRETS.RELWORX_WEBHOOK_SECRET, { callbackUrl: TEST_RELWORX_CALLBACK_URL }],
    ['buy-complete', 'Standard Webhooks', buyCompletion({ tradeId: 5, transactionHash: '0x5' }), TEST_SECRETS.BUY_WEBHOOK_SECRET, { standard: true }],
    ['relworx', 'Standard Webhooks', relworxPayment({ customerReference: 'TRADE-6', internalReference: 'RWX-6' }), TEST_SECRETS.RELWORX_WEBHOOK_SECRET, { standard: true }],
  ];

  it.each(cases)('%s signed with the %s scheme is accepted', async (type, _scheme, payload, secret, extra = {}) => {
    const result = await sendWebhook(receiver.url, type, payload, { secret, maxAttempts: 1, ...extra });
    expect(result).toEqual(expect.objectContaining({ status: 202, ok: true }));
  });

  it('signs like openssl dgst -sha256 -hmac', () => {
    const body = serializePayload(buyCompletion({ tradeId: 7, transactionHash: '0x7', timestamp: '2024-01-15T10:30:00Z' }));
    const openssl = execFileSync('openssl', ['dgst', '-sha256', '-hmac', 'k', '-r'], { input: body }).toString().split(' ')[0];
    expect(signPayload(body, 'k')).toBe(openssl);
  });

  it('signs Relworx fields like an independent HMAC of the documented string', () => {
    const expected = createHmac('sha256', 'k').update('https://cb.example/relworx1700000000customer_referenceTinternal_referenceIstatussuccess').digest('hex');
    expect(signRelworx('https://cb.example/relworx', 1700000000, { customer_reference: 'T', internal_reference: 'I', status: 'success' }, 'k')).toBe(expected);
  });

  it('builds bodies with a timestamp and writes string amounts as exact JSON numbers', () => {
    const body = serializePayload(buyCompletion({ tradeId: 8, cryptoAmount: '0.123456789012345678', transactionHash: '0x8' }));
    expect(JSON.parse(body)).toEqual(expect.objectContaining({ trade_id: 8, status: 'completed', webhook_type: 'buy_completion', timestamp: expect.any(String) }));
    expect(body).toContain('"crypto_amount":0.123456789012345678');
    expect(() => buyCompletion({ tradeId: 8, cryptoAmount: '-1' })).toThrow(RangeError);
  });
});
